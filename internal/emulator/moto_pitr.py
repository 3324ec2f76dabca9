# Point-in-time recovery for moto_server's DynamoDB (moto 5.2.1).
#
# moto restores a table "to a point in time" by copying its items as they
# are now, whatever time is asked for, and reports a restorable window that
# never moves. That makes a restore indistinguishable from a copy. This
# module, loaded as sitecustomize by the moto_server that `make e2e` starts
# (PYTHONPATH, see pitr.go), gives it the real semantics:
#   - after every request that writes a table with PITR enabled, the table's
#     items are recorded with the time;
#   - LatestRestorableDateTime is "now" (AWS: a few minutes ago);
#   - RestoreTableToPointInTime fills the new table with the items recorded
#     last at or before RestoreDateTime.
# It never changes what a request returns otherwise.
import copy
import datetime
import sys
import threading
import time

try:
    from moto.dynamodb import responses as _responses
    from moto.dynamodb.models import DynamoDBBackend as _Backend

    _history = {}  # (account, region, table) -> [(unix seconds, items)]
    _WRITES = {
        "CreateTable", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
        "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement",
        "ExecuteTransaction", "UpdateContinuousBackups",
    }

    def _pitr(table):
        desc = table.continuous_backups.get("PointInTimeRecoveryDescription", {})
        return desc if desc.get("PointInTimeRecoveryStatus") == "ENABLED" else None

    _lock = threading.Lock()  # moto_server answers requests on threads

    def _written(body):
        """The tables a write names (all, when it names none we know)."""
        names = set()
        if body.get("TableName"):
            names.add(body["TableName"])
        names.update((body.get("RequestItems") or {}).keys())
        for t in body.get("TransactItems") or []:
            for op in t.values():
                if isinstance(op, dict) and op.get("TableName"):
                    names.add(op["TableName"])
        return names or None

    def _record(backend, names):
        now = time.time()
        with _lock:
            for name, table in list(backend.tables.items()):
                if (names is None or name in names) and _pitr(table) is not None:
                    key = (backend.account_id, backend.region_name, name)
                    _history.setdefault(key, []).append((now, copy.deepcopy(table.items)))

    _call_action = _responses.DynamoHandler.call_action

    def call_action(self):
        result = _call_action(self)
        try:
            if self._get_action() in _WRITES:
                _record(self.dynamodb_backend, _written(self.body))
        except Exception as e:  # never break the emulator itself
            print("moto_pitr: not recorded: %r" % (e,), file=sys.stderr)
        return result

    _responses.DynamoHandler.call_action = call_action

    _describe = _Backend.describe_continuous_backups

    def describe_continuous_backups(self, table_name):
        out = _describe(self, table_name)
        desc = out.get("PointInTimeRecoveryDescription", {})
        if desc.get("PointInTimeRecoveryStatus") == "ENABLED":
            desc["LatestRestorableDateTime"] = time.time()
        return out

    _Backend.describe_continuous_backups = describe_continuous_backups

    def _seconds(v):
        if isinstance(v, datetime.datetime):
            return v.timestamp()
        return float(v)

    def restore_table_to_point_in_time(self):
        body = self.body
        source, target = body.get("SourceTableName"), body.get("TargetTableName")
        restored = self.dynamodb_backend.restore_table_to_point_in_time(target, source)
        if body.get("RestoreDateTime") is not None and not body.get("UseLatestRestorableTime"):
            at = _seconds(body["RestoreDateTime"])
            key = (self.dynamodb_backend.account_id, self.dynamodb_backend.region_name, source)
            with _lock:
                snaps = [items for t, items in _history.get(key, []) if t <= at]
            if snaps:
                restored.items = copy.deepcopy(snaps[-1])
            else:
                restored.items.clear()
        return _responses.DynamoResult(restored.describe())

    _responses.DynamoHandler.restore_table_to_point_in_time = restore_table_to_point_in_time
    print("moto_pitr: point-in-time recovery keeps snapshots", file=sys.stderr)
except Exception as e:  # report loudly; the e2e restore check then fails with a reason
    print("moto_pitr: NOT APPLIED: %r" % (e,), file=sys.stderr)
