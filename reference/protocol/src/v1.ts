/**
 * The generated paycode.v1 messages and service descriptors (protobuf-es,
 * `buf generate` from proto/). Each service constant lists its RPCs with
 * their request and response messages.
 *
 * @module @paycode/protocol/v1
 */
export * from "./gen/paycode/v1/conformance_service_pb.js";
export * from "./gen/paycode/v1/health_service_pb.js";
export * from "./gen/paycode/v1/merchant_service_pb.js";
export * from "./gen/paycode/v1/money_pb.js";
export * from "./gen/paycode/v1/offline_code_pb.js";
export * from "./gen/paycode/v1/payment_pb.js";
export * from "./gen/paycode/v1/profile_pb.js";
export * from "./gen/paycode/v1/settlement_service_pb.js";
export * from "./gen/paycode/v1/wallet_service_pb.js";
