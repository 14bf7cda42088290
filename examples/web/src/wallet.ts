// The web wallet: provision once over Connect (connect-web), then make the
// online code (Code 128) and the offline code (QR) in the page, every minute.
import {
  code128cModules,
  createWebTransport,
  formatMoney,
  groupDigits,
  WalletClient,
  WalletCodesExhaustedError,
  WebStorageWalletStateStore,
} from "@paycode/sdk/web";
import QRCode from "qrcode";
import { $, initialServer, rememberServer, showError } from "./common.js";

const store = new WebStorageWalletStateStore();
let wallet = makeWallet(store.load()?.serverUrl ?? initialServer());
let timer: ReturnType<typeof setTimeout> | undefined;

function makeWallet(serverUrl: string): WalletClient {
  return new WalletClient({ store, transport: createWebTransport(serverUrl) });
}

/** Code 128 (set C) as an SVG: one unit per module, 10-module quiet zones. */
function barcodeSvg(digits: string): string {
  const quiet = 10;
  const modules = code128cModules(digits);
  const width = modules.length + 2 * quiet;
  let bars = "";
  for (let i = 0; i < modules.length; ) {
    if (!modules[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < modules.length && modules[j]) j++;
    bars += `<rect x="${quiet + i}" y="0" width="${j - i}" height="40"/>`;
    i = j;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} 40" width="${width * 2.5}" height="100" shape-rendering="crispEdges" role="img" aria-label="barcode ${digits}"><rect width="${width}" height="40" fill="#fff"/><g fill="#000">${bars}</g></svg>`;
}

async function renderCodes(): Promise<void> {
  clearTimeout(timer);
  try {
    const online = wallet.onlineCode();
    $("online-barcode").innerHTML = barcodeSvg(online);
    const digits = $("online-code");
    digits.textContent = groupDigits(online);
    digits.dataset["code"] = online;
    $("codes-left").textContent = String(wallet.codesLeftThisStep);
  } catch (err) {
    if (!(err instanceof WalletCodesExhaustedError)) throw err;
    $("codes-left").textContent = "no";
  }
  const offline = wallet.offlineCode();
  $("offline-qr").innerHTML = await QRCode.toString(offline, {
    type: "svg",
    errorCorrectionLevel: "M",
    margin: 2,
  });
  $("offline-qr").dataset["code"] = offline;
  $("offline-caption").textContent = `${offline.length} characters, counter ${
    BigInt(wallet.state().offlineNextCounter) - 1n
  }`;
  // Next refresh just after the next one-minute step of the issuer clock.
  const now = wallet.nowMs();
  timer = setTimeout(() => void refresh(), 60_000 - (now % 60_000) + 200);
}

async function refresh(): Promise<void> {
  try {
    showError(undefined);
    await renderCodes();
  } catch (err) {
    showError(err);
  }
}

async function showWallet(): Promise<void> {
  $("provision").hidden = true;
  $("wallet").hidden = false;
  $("wallet-id").textContent = wallet.walletId;
  $("handle").textContent = String(wallet.handle);
  await refresh();
  wallet.getWallet().then(
    (w) => {
      $("balance").textContent = `balance ${formatMoney(w.balance)}`;
    },
    () => {
      $("balance").textContent = "balance unavailable (offline?)";
    },
  );
}

$<HTMLInputElement>("server").value = initialServer();

$<HTMLFormElement>("provision").addEventListener("submit", (event) => {
  event.preventDefault();
  const serverUrl = $<HTMLInputElement>("server").value.trim().replace(/\/$/, "");
  const button = $<HTMLButtonElement>("provision-button");
  button.disabled = true;
  showError(undefined);
  wallet = makeWallet(serverUrl);
  wallet
    .provision({
      accountId: $<HTMLInputElement>("account").value.trim(),
      password: $<HTMLInputElement>("password").value,
      deviceLabel: `web wallet (${navigator.userAgent.slice(0, 40)})`,
      serverUrl,
    })
    .then(() => {
      rememberServer(serverUrl);
      return showWallet();
    })
    .catch(showError)
    .finally(() => {
      button.disabled = false;
      $<HTMLInputElement>("password").value = "";
    });
});

$("refresh").addEventListener("click", () => void refresh());
$("forget").addEventListener("click", () => {
  clearTimeout(timer);
  store.clear();
  $("wallet").hidden = true;
  $("provision").hidden = false;
});

if (wallet.isProvisioned) void showWallet();
