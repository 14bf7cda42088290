export { Authenticator, type AuthenticatorOptions } from "./authenticator.js";
export { parseBearer } from "./bearer.js";
export { createConnectUnaryFastPath } from "./connect-unary-fast-path.js";
export { INTERNAL_MESSAGE, toConnectError } from "./internal-error.js";
export { consoleLogger, type ServerLogger, silentLogger } from "./logger.js";
export { createRoutes, type RoutesOptions, routesFromTable } from "./routes.js";
export { createRpcTable, type Rpc, type RpcTableOptions } from "./rpc-table.js";
export {
  type PaycodeServer,
  type ServerTlsOptions,
  type StartServerOptions,
  startServer,
} from "./start-server.js";
