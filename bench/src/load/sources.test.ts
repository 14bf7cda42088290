import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DeclineReason, PaymentStatus, ScanResponseSchema } from "@paycode/protocol/v1";
import { describe, expect, it } from "vitest";
import { scanOutcome } from "./sources.js";

describe("scanOutcome", () => {
  it("reads status and decline reason off the wire, other fields skipped", () => {
    const body = toBinary(
      ScanResponseSchema,
      create(ScanResponseSchema, {
        payment: {
          paymentId: "pay_x",
          outTradeNo: "o-1",
          amount: { currency: "CNY", amountMinor: 12n },
          status: PaymentStatus.DECLINED,
          declineReason: DeclineReason.CODE_REUSED,
          subject: "s",
          createdAt: timestampFromMs(1_700_000_000_000),
        },
      }),
    );
    expect(scanOutcome(body)).toEqual({
      status: PaymentStatus.DECLINED,
      declineReason: DeclineReason.CODE_REUSED,
    });
  });

  it("gives undefined for a response without a payment", () => {
    expect(scanOutcome(new Uint8Array(0))).toBeUndefined();
  });
});
