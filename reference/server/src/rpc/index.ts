export { Authenticator, type AuthenticatorOptions } from "./authenticator.js";
export { parseBearer } from "./bearer.js";
export { createConnectUnaryFastPath } from "./connect-unary-fast-path.js";
export { CORS_MAX_AGE_SECONDS, createCorsHandler, parseCorsOrigin } from "./cors.js";
export { INTERNAL_MESSAGE, toConnectError } from "./internal-error.js";
export { consoleLogger, type ServerLogger, silentLogger } from "./logger.js";
export {
  REFLECTION_SERVICES,
  type ReflectionAnswer,
  ReflectionIndex,
  type ReflectionRequest,
  reflectionRoutes,
} from "./reflection/reflection.js";
export { createRoutes, type RoutesOptions, routesFromTable, servicesOf } from "./routes.js";
export { createRpcTable, type Rpc, type RpcTableOptions } from "./rpc-table.js";
export {
  type PaycodeServer,
  type ServerTlsOptions,
  type StartServerOptions,
  startServer,
} from "./start-server.js";
