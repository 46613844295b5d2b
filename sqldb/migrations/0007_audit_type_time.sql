-- ipdesk schema, version 7: the audit log filtered by object type reads
-- its entries newest first from an index instead of sorting them.
CREATE INDEX audit_log_type_time ON audit_log (object_type, time);
