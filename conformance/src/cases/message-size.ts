import { Code } from "@connectrpc/connect";
import { RecordOutcome } from "@paycode/protocol/v1";
import { type Case, type CaseContext, defineCase } from "../case.js";
import { OFFLINE, walletAndMerchant } from "./common.js";

const MiB = 1024 * 1024;

/** [RPC-9] Messages up to 1 MiB are served; larger ones are refused as invalid, not as exhausted. */
export const messageSizeCases: Case[] = [
  defineCase({
    id: "malformed-input/oversized-message",
    title:
      "A Scan message over 1 MiB fails invalid_argument (not resource_exhausted, which clients retry) and burns nothing",
    requirements: ["RPC-9", "SCAN-1"],
    async run(ctx: CaseContext) {
      const { wallet, merchant } = await walletAndMerchant(ctx, { balance: 10_000n });
      const code = wallet.onlineCode();
      const outTradeNo = ctx.fixtures.orderNo();
      await ctx.expect.error(
        merchant.scan(code, 100n, { outTradeNo, subject: "x".repeat(MiB + 1024) }),
        Code.InvalidArgument,
        "Scan whose message is over 1 MiB",
      );
      await ctx.expect.error(
        merchant.client.getPayment({ lookup: { case: "outTradeNo", value: outTradeNo } }),
        Code.NotFound,
        "GetPayment of the refused order (nothing may be recorded)",
      );
      ctx.expect.succeeded(
        await merchant.scan(code, 100n, { outTradeNo }),
        "the same code afterwards",
      );
    },
  }),
  defineCase({
    id: "malformed-input/full-batch-near-1-mib",
    title:
      "An UploadOfflineBatch of 1000 records of about 900 bytes each (under 1 MiB in either codec) is served: 1000 results, in order, none settled",
    requirements: ["RPC-9", "SETTLE-4"],
    features: [...OFFLINE],
    async run(ctx: CaseContext) {
      const merchant = await ctx.fixtures.merchant();
      const terminal = await ctx.fixtures.terminal(merchant);
      await Promise.all([terminal.sync(), ctx.clock.sync()]);
      // Base45 text that decodes to no offline code: each record is
      // rejected; the message is about 0.83 MiB in binary, 0.93 MiB in JSON.
      const junk = `PC1:${"A".repeat(800)}`;
      const records = Array.from({ length: 1000 }, () => terminal.record(junk, 100n));
      const r = await terminal.upload(records);
      const settled = r.results.filter(
        (x) => x.outcome === RecordOutcome.SETTLED || x.outcome === RecordOutcome.DUPLICATE,
      ).length;
      ctx.expect.equal(settled, 0, "records of undecodable codes settled or reported DUPLICATE");
    },
  }),
];
