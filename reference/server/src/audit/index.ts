export {
  type AuditEvent,
  type AuditLog,
  discardAudit,
} from "../issuer/audit-log.js";
export {
  type AuditLine,
  auditJson,
  auditLine,
  MAX_AUDIT_STRING,
  normalizeAuditEvent,
} from "./audit-line.js";
export {
  AGGREGATED_AUDIT_TYPES,
  AuditPipeline,
  type AuditPipelineOptions,
  type AuditSink,
  teeAudit,
} from "./audit-pipeline.js";
export { FileAuditLog, type FileAuditLogOptions, StreamAuditLog } from "./file-audit-log.js";
export { auditRow, StoreAuditLog, type StoreAuditLogOptions } from "./store-audit-log.js";
