// The till: a pasted (scanned) code, the merchant API key and an amount go
// to MerchantService.Scan through MerchantClient.pay over connect-web.
import {
  createWebTransport,
  declineReasonName,
  formatMoney,
  MerchantClient,
  parseAmount,
  statusName,
} from "@paycode/sdk/web";
import { $, initialServer, rememberServer, showError } from "./common.js";

$<HTMLInputElement>("server").value = initialServer();

$<HTMLFormElement>("scan").addEventListener("submit", (event) => {
  event.preventDefault();
  const button = $<HTMLButtonElement>("scan-button");
  button.disabled = true;
  showError(undefined);
  $("status").textContent = "…";
  $("detail").textContent = "";
  void scan()
    .catch((err) => {
      $("status").textContent = "ERROR";
      showError(err);
    })
    .finally(() => {
      button.disabled = false;
    });
});

async function scan(): Promise<void> {
  const serverUrl = $<HTMLInputElement>("server").value.trim().replace(/\/$/, "");
  const currency = $<HTMLInputElement>("currency").value.trim().toUpperCase();
  const amountMinor = parseAmount($<HTMLInputElement>("amount").value, currency);
  const code = $<HTMLTextAreaElement>("code").value.replace(/\s+/g, "");
  const merchant = new MerchantClient({
    transport: createWebTransport(serverUrl, { bearer: $<HTMLInputElement>("api-key").value }),
    onEvent: (e) => {
      $("detail").textContent = `${e.kind}…`;
    },
  });
  rememberServer(serverUrl);
  const result = await merchant.pay({
    outTradeNo: `web-till-${crypto.randomUUID()}`,
    amount: { currency, amountMinor },
    code,
  });
  const p = result.payment;
  $("status").textContent = statusName(p.status);
  const reason = p.declineReason ? ` · ${declineReasonName(p.declineReason)}` : "";
  $("detail").textContent = `payment ${p.paymentId} · ${formatMoney(p.amount)}${reason}`;
}
