"""The one table of DBOS's public API.

For every public name of the real ``dbos`` package it says how the runtime shim supports it,
which lint code ``dbos2resonate check`` reports it under, and which codemod rule rewrites it.
The compatibility ledger, the rule docs and the tests all read this table; nothing else
restates it.

``PARAMS`` (at the end) goes one level down: every parameter, config key, status field, enum member
and method of each name the shim honours or accepts, with its own status. ``ONLY_IN`` says which
names only one major version of DBOS has. ``tests/ledger`` checks all three against DBOS itself.

Codes: ``D2R1xx`` are rewritten by ``migrate``; ``D2R2xx`` need a person (``migrate`` leaves a
coded TODO at the spot). A row's ``code`` is both its lint code and its rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ShimSupport(StrEnum):
    HONOURED = "honoured"  # behaves as in DBOS, checked by differential tests
    INERT = "inert"  # accepted, has no effect, warns once
    PENDING = "pending"  # not built yet: raises ShimUnsupportedError naming the docs
    REJECTED = "rejected"  # will not be built: raises ShimUnsupportedError with the reason


@dataclass(frozen=True, slots=True)
class DbosApi:
    name: str  # as written in user code: "DBOS.workflow", "SetWorkflowID", "Queue"
    shim: ShimSupport
    code: str  # lint code reporting it, which is also the codemod rule that handles it
    note: str = ""


H, I, P, R = ShimSupport.HONOURED, ShimSupport.INERT, ShimSupport.PENDING, ShimSupport.REJECTED

# Codes (the rule modules under codemod/rules own their summaries and examples):
#   D2R101 imports            D2R102 config/launch      D2R103 workflow decorator
#   D2R104 step decorator     D2R105 start_workflow     D2R106 SetWorkflowID
#   D2R107 sleep              D2R108 logger             D2R109 workflow/step ids
#   D2R110 scheduled          D2R111 send/recv          D2R112 events
#   D2R113 queues (fan-out)   D2R114 async callers      D2R115 streams
#   D2R201 transactions/SQL   D2R202 queue flow control D2R203 workflow management
#   D2R204 read_stream_offset D2R205 DBOSClient         D2R206 classes/instances
#   D2R207 timeouts           D2R208 cron not in 5 fields  D2R209 other DBOS API
APIS: tuple[DbosApi, ...] = (
    # Programming model
    DbosApi("DBOS", H, "D2R102", "constructor takes config=; the class is the namespace of all calls"),
    DbosApi("DBOSConfig", H, "D2R102", "a TypedDict; keys the shim cannot honour raise or warn"),
    DbosApi("DBOS.launch", H, "D2R102"),
    DbosApi("DBOS.destroy", H, "D2R102"),
    DbosApi("DBOS.reset_system_database", P, "D2R209", "issue 4 (embedded store)"),
    DbosApi("DBOS.workflow", H, "D2R103", "sync and async; name=, max_recovery_attempts="),
    DbosApi("DBOS.step", H, "D2R104", "sync and async; retries map to the shim's own retry loop"),
    DbosApi("DBOS.run_step", H, "D2R104"),
    DbosApi("DBOS.run_step_async", H, "D2R104"),
    DbosApi("DBOS.transaction", R, "D2R201", "Resonate has no database transactions; make it a step"),
    DbosApi("DBOS.sql_session", R, "D2R201", "Resonate has no application database"),
    DbosApi("DBOS.logger", H, "D2R108"),
    DbosApi("DBOS.workflow_id", H, "D2R109"),
    DbosApi("DBOS.step_id", H, "D2R109"),
    DbosApi("DBOS.step_status", H, "D2R109"),
    DbosApi("DBOS.span", H, "D2R209", "None in a DBOS context, as DBOS with OTLP off (its default); no spans are exported"),
    DbosApi("DBOS.tracer", H, "D2R209", "DBOS's tracer with OTLP off; start_span raises ShimUnsupportedError"),
    DbosApi("DBOS.config", H, "D2R102"),
    DbosApi("DBOSConfiguredInstance", H, "D2R206", "instances are recorded by config_name, as in DBOS"),
    DbosApi("DBOS.dbos_class", H, "D2R206"),
    DbosApi("DBOS.register_instance", H, "D2R206"),
    # Composing
    DbosApi("DBOS.start_workflow", H, "D2R105"),
    DbosApi("DBOS.start_workflow_async", H, "D2R105"),
    DbosApi("DBOS.retrieve_workflow", H, "D2R105"),
    DbosApi("DBOS.retrieve_workflow_async", H, "D2R105"),
    DbosApi("DBOS.get_result", H, "D2R105"),
    DbosApi("DBOS.get_result_async", H, "D2R105"),
    DbosApi("DBOS.get_workflow_status", H, "D2R105"),
    DbosApi("DBOS.get_workflow_status_async", H, "D2R105"),
    DbosApi("WorkflowHandle", H, "D2R105"),
    DbosApi("WorkflowHandleAsync", H, "D2R105"),
    DbosApi("WorkflowStatus", H, "D2R203"),
    DbosApi("WorkflowStatusString", H, "D2R203"),
    DbosApi("SetWorkflowID", H, "D2R106"),
    DbosApi("SetWorkflowTimeout", H, "D2R207", "the workflow is cancelled at its deadline; children inherit it (docs/queues.md)"),
    DbosApi("SetWorkflowAttributes", H, "D2R209", "recorded on each workflow started in the block, not on its children"),
    DbosApi("DBOS.asyncio_wait", H, "D2R209", "asyncio.wait; in a workflow the done/pending split is one recorded "
                                              "operation, so a replay gets the same split"),
    DbosApi("DBOS.wait_first", H, "D2R209", "waits on the workflows' results (nothing polls); one recorded operation in a workflow"),
    DbosApi("DBOS.wait_first_async", H, "D2R209"),
    # Durable sleep and scheduling
    DbosApi("DBOS.sleep", H, "D2R107"),
    DbosApi("DBOS.sleep_async", H, "D2R107"),
    DbosApi("DBOS.scheduled", H, "D2R110", "seconds-precise; DBOS's tick ids; missed ticks skipped as in DBOS (docs/scheduling.md)"),
    DbosApi("DBOS.create_schedule", H, "D2R110", "stored in the Resonate store; fired by the shim in any zone, on any "
            "queue; on a Resonate server, by the server when a 5-field UTC cron says it (docs/scheduling.md)"),
    DbosApi("DBOS.create_schedule_async", H, "D2R110"),
    DbosApi("DBOS.apply_schedules", H, "D2R110", "one atomic change of the stored schedule table"),
    DbosApi("DBOS.apply_schedules_async", H, "D2R110"),
    DbosApi("DBOS.get_schedule", H, "D2R110"),
    DbosApi("DBOS.get_schedule_async", H, "D2R110"),
    DbosApi("DBOS.list_schedules", H, "D2R110"),
    DbosApi("DBOS.list_schedules_async", H, "D2R110"),
    DbosApi("DBOS.delete_schedule", H, "D2R110"),
    DbosApi("DBOS.delete_schedule_async", H, "D2R110"),
    DbosApi("DBOS.pause_schedule", H, "D2R110"),
    DbosApi("DBOS.resume_schedule", H, "D2R110"),
    DbosApi("DBOS.trigger_schedule", H, "D2R110"),
    DbosApi("DBOS.backfill_schedule", H, "D2R110", "also what automatic_backfill runs on start"),
    DbosApi("WorkflowSchedule", H, "D2R110", "the rows get_schedule and list_schedules return"),
    DbosApi("ScheduleInput", H, "D2R110", "an apply_schedules entry"),
    DbosApi("ClientScheduleInput", H, "D2R110", "a DBOSClient.apply_schedules entry (the workflow by name)"),
    # Human-in-the-loop
    DbosApi("DBOS.send", H, "D2R111", "a durable promise per message slot; idempotency_key honoured; send_to_forks trivially (no forks)"),
    DbosApi("DBOS.send_async", H, "D2R111"),
    DbosApi("DBOS.send_bulk", H, "D2R111", "one durable operation; all or nothing on errors; a crash mid-batch: the rest is sent at the next launch"),
    DbosApi("DBOS.send_bulk_async", H, "D2R111"),
    DbosApi("SendMessage", H, "D2R111"),
    DbosApi("DBOS.recv", H, "D2R111", "waits on promise W:msg/T/k, resolvable from outside (docs/messaging.md)"),
    DbosApi("DBOS.recv_async", H, "D2R111"),
    DbosApi("DBOS.set_event", H, "D2R112", "versioned promises W:event/K/v; last writer wins"),
    DbosApi("DBOS.set_event_async", H, "D2R112"),
    DbosApi("DBOS.get_event", H, "D2R112"),
    DbosApi("DBOS.get_event_async", H, "D2R112"),
    DbosApi("DBOS.get_all_events", H, "D2R112"),
    DbosApi("DBOS.get_all_events_async", H, "D2R112"),
    DbosApi("DBOS.write_stream", H, "D2R115", "entries are promises W:stream/K/i"),
    DbosApi("DBOS.write_stream_async", H, "D2R115"),
    DbosApi("DBOS.read_stream", H, "D2R115", "polling_interval_sec validated, inert: readers are woken, never poll"),
    DbosApi("DBOS.read_stream_async", H, "D2R115"),
    DbosApi("DBOS.read_stream_offset", H, "D2R204"),
    DbosApi("DBOS.read_stream_offset_async", H, "D2R204"),
    DbosApi("DBOS.close_stream", H, "D2R115"),
    DbosApi("DBOS.close_stream_async", H, "D2R115"),
    DbosApi("DBOSClient", H, "D2R205", "send, get_event, retrieve_workflow, read_stream, enqueue, list/cancel/resume/fork, schedules: from any process on a Resonate server, else in the process that launched DBOS"),
    # Queues
    DbosApi("Queue", H, "D2R113", "2.x form at import time; flow control by a per-process dispatcher, global limits "
                                  "shared by every worker on a Resonate server (docs/queues.md)"),
    DbosApi("DBOS.register_queue", H, "D2R113", "configuration kept in this process (re-register on start)"),
    DbosApi("DBOS.register_queue_async", H, "D2R113"),
    DbosApi("DBOS.enqueue_workflow", H, "D2R113"),
    DbosApi("DBOS.enqueue_workflow_async", H, "D2R113"),
    DbosApi("DBOS.enqueue_workflow_with_options", H, "D2R113", "the workflow must be registered in this process"),
    DbosApi("DBOS.enqueue_workflow_with_options_async", H, "D2R113"),
    DbosApi("DBOS.retrieve_queue", H, "D2R202", "queues declared with register_queue, kept in this process"),
    DbosApi("DBOS.retrieve_queue_async", H, "D2R202"),
    DbosApi("DBOS.list_queues", H, "D2R202", "queues declared with register_queue, kept in this process"),
    DbosApi("DBOS.list_queues_async", H, "D2R202"),
    DbosApi("DBOS.delete_queue", H, "D2R202", "its queued work waits until the queue is registered again"),
    DbosApi("DBOS.delete_queue_async", H, "D2R202"),
    DbosApi("DBOS.listen_queues", H, "D2R202", "other queues' work waits, ENQUEUED, in this process"),
    DbosApi("SetEnqueueOptions", H, "D2R202", "deduplication_id, duplication_policy, priority, delay_seconds, queue_partition_key, app_version"),
    DbosApi("EnqueueOptions", H, "D2R202", "a TypedDict; keys the shim does not record raise by name"),
    DbosApi("Debouncer", H, "D2R202", "one DELAYED workflow per key, bounced with the latest inputs (docs/queues.md)"),
    DbosApi("DebouncerClient", H, "D2R202", "in the process that launched DBOS"),
    DbosApi("DBOS.set_workflow_delay", H, "D2R202", "a delay lives in the queued workflow's permit and update promises; durable"),
    DbosApi("DBOS.set_workflow_delay_async", H, "D2R202"),
    # Workflow management
    DbosApi("DBOS.list_workflows", H, "D2R203", "promise.search on the tags of workflow roots"),
    DbosApi("DBOS.list_workflows_async", H, "D2R203"),
    DbosApi("DBOS.list_queued_workflows", H, "D2R203"),
    DbosApi("DBOS.list_queued_workflows_async", H, "D2R203"),
    DbosApi("DBOS.list_workflow_steps", H, "D2R203", "a workflow's ctx.run children, named and numbered as DBOS does"),
    DbosApi("DBOS.list_workflow_steps_async", H, "D2R203"),
    DbosApi("DBOS.cancel_workflow", H, "D2R203", "a cancelled workflow stops at its next durable operation, as in DBOS"),
    DbosApi("DBOS.cancel_workflow_async", H, "D2R203"),
    DbosApi("DBOS.cancel_workflows", H, "D2R203"),
    DbosApi("DBOS.cancel_workflows_async", H, "D2R203"),
    DbosApi("DBOS.resume_workflow", H, "D2R203", "a new run of the workflow replays the cancelled run's operations"),
    DbosApi("DBOS.resume_workflow_async", H, "D2R203"),
    DbosApi("DBOS.resume_workflows", H, "D2R203"),
    DbosApi("DBOS.resume_workflows_async", H, "D2R203"),
    DbosApi("DBOS.fork_workflow", H, "D2R203", "operations before start_step are copied from the original"),
    DbosApi("DBOS.fork_workflow_async", H, "D2R203"),
    DbosApi("DBOS.delete_workflow", H, "D2R203", "a tombstone per run (Resonate has no delete); the id can run again"),
    DbosApi("DBOS.delete_workflow_async", H, "D2R203"),
    DbosApi("DBOS.delete_workflows", H, "D2R203"),
    DbosApi("DBOS.delete_workflows_async", H, "D2R203"),
    DbosApi("DBOS.update_workflow_attributes", H, "D2R203", "replaces them whole; a step in a workflow"),
    DbosApi("DBOS.update_workflow_attributes_async", H, "D2R203", "replaces them whole; a step in a workflow"),
    DbosApi("StepInfo", H, "D2R203"),
    # Everything else DBOS has that Resonate has no counterpart for
    DbosApi("DBOS.kafka_consumer", R, "D2R209", "no Kafka integration in Resonate"),
    DbosApi("KafkaMessage", R, "D2R209", "no Kafka integration in Resonate"),
    DbosApi("DBOS.required_roles", H, "D2R209", "checked on the recorded roles (shim/_roles.py): DBOSNotAuthorizedError, the workflow ERROR"),
    DbosApi("DBOS.default_required_roles", H, "D2R209", "the class's workflows and steps without their own list"),
    DbosApi("DBOS.authenticated_user", H, "D2R209", "the current DBOS context's; a workflow runs as its caller (shim/_auth.py)"),
    DbosApi("DBOS.authenticated_roles", H, "D2R209"),
    DbosApi("DBOS.assumed_role", H, "D2R209", "the first required role the caller holds, while the function runs"),
    DbosApi("DBOS.set_authentication", H, "D2R209"),
    DbosApi("DBOSContextEnsure", H, "D2R209"),
    DbosApi("DBOSContextSetAuth", H, "D2R209", "workflows started in the block record the user and roles"),
    DbosApi("DBOS.executor_id", H, "D2R209"),
    DbosApi("DBOS.application_version", H, "D2R209"),
    DbosApi("DBOS.alert_handler", R, "D2R209", "DBOS Conductor alerts have no counterpart"),
    DbosApi("DBOS.patch", H, "D2R209", "decided by the operation recorded at the next position, as in DBOS"),
    DbosApi("DBOS.patch_async", H, "D2R209"),
    DbosApi("DBOS.deprecate_patch", H, "D2R209"),
    DbosApi("DBOS.deprecate_patch_async", H, "D2R209"),
    DbosApi("DBOS.list_application_versions", R, "D2R209"),
    DbosApi("DBOS.list_application_versions_async", R, "D2R209"),
    DbosApi("DBOS.get_latest_application_version", R, "D2R209"),
    DbosApi("DBOS.get_latest_application_version_async", R, "D2R209"),
    DbosApi("DBOS.set_latest_application_version", R, "D2R209"),
    DbosApi("DBOS.set_latest_application_version_async", R, "D2R209"),
    DbosApi("VersionInfo", R, "D2R209"),
    DbosApi("SQLAlchemyDatasource", R, "D2R201", "Resonate has no application database"),
    DbosApi("AsyncSQLAlchemyDatasource", R, "D2R201", "Resonate has no application database"),
    DbosApi("run_dbos_database_migrations", R, "D2R201"),
    DbosApi("Serializer", P, "D2R209"),
    DbosApi("DBOSPortableJSONSerializer", P, "D2R209"),
    DbosApi("WorkflowSerializationFormat", P, "D2R209"),
    DbosApi("PortableWorkflowError", P, "D2R209"),
    DbosApi("DuplicationPolicy", H, "D2R202", "the Literal[\"reject\", \"return-existing\"] of duplication_policy"),
    DbosApi("StepOptions", H, "D2R104"),
    DbosApi("PropagateOtelContext", P, "D2R209"),
    DbosApi("make_pydantic_args_validator", P, "D2R209"),
    DbosApi("pydantic_args_validator", P, "D2R209"),
    # DBOS 3.x only (see ONLY_IN below)
    DbosApi("DBOS.migrate", R, "D2R209", "3.x: migrates DBOS's system database; the shim keeps its state in its own store"),
    DbosApi("DBOS.reserve_step", P, "D2R104", "3.x"),
    DbosApi("StepReservation", P, "D2R104", "3.x"),
    DbosApi("DBOS.rewind_workflow", P, "D2R203", "3.x"),
    DbosApi("DBOS.rewind_workflow_async", P, "D2R203", "3.x"),
    DbosApi("DBOS.shard_key", P, "D2R209", "3.x: sharded system databases"),
    DbosApi("SetShardKey", P, "D2R209", "3.x: sharded system databases"),
    DbosApi("WorkflowIDReusePolicy", P, "D2R209", "3.x: SetWorkflowID(workflow_id_reuse_policy=)"),
    DbosApi("error", H, "D2R101", "the shim's shim.errors mirrors DBOS's exception names and hierarchy"),
)

BY_NAME: dict[str, DbosApi] = {api.name: api for api in APIS}


def lookup(name: str) -> DbosApi | None:
    """The row for a name as user code writes it (``DBOS.recv``), or None if DBOS has no such API."""
    return BY_NAME.get(name)


# -- Which major version has a name -----------------------------------------------------------------
# A name absent here is in both DBOS 2.x and 3.x. tests/ledger checks this against the installed 2.x
# package and the checked-in surface of 3.x (tests/ledger/dbos-3.4.0.json).
ONLY_IN: dict[str, str] = {
    "DBOS.transaction": "2.x", "DBOS.sql_session": "2.x", "DBOS.scheduled": "2.x",
    "DBOS.register_instance": "2.x",
    "DBOS.migrate": "3.x", "DBOS.reserve_step": "3.x", "StepReservation": "3.x",
    "DBOS.rewind_workflow": "3.x", "DBOS.rewind_workflow_async": "3.x",
    "DBOS.shard_key": "3.x", "SetShardKey": "3.x", "WorkflowIDReusePolicy": "3.x",
    # not a DBOS name: the shim's reading of the config it was given
    "DBOS.config": "shim",
}


# -- Parameters -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DbosParam:
    """How the shim supports one parameter (or key, field, enum member, method) of a DBOS name."""

    shim: ShimSupport
    note: str = ""
    only: str = ""  # "2.x" or "3.x" when one major version of DBOS has it


def _all(status: ShimSupport, *names: str, note: str = "", only: str = "") -> dict[str, DbosParam]:
    return {name: DbosParam(status, note, only) for name in names}


_SERIALIZATION = DbosParam(P, "the default is honoured; PORTABLE or NATIVE raise ShimUnsupportedError")
_SHARD_KEY = DbosParam(P, "sharded system databases: not in the shim's signature (TypeError)", "3.x")
_STREAM_READ = {
    **_all(H, "workflow_id", "key", "offset", "timeout_seconds"),
    "polling_interval_sec": DbosParam(I, "validated as DBOS validates it; readers are woken, never poll"),
    "shard_key": _SHARD_KEY,
}
_SEND = {
    **_all(H, "destination_id", "message", "topic", "idempotency_key"),
    "serialization_type": _SERIALIZATION,
    "send_to_forks": DbosParam(I, "the shim has no forks yet, so there is nothing more to send to"),
    "shard_key": _SHARD_KEY,
}
_CREATE_SCHEDULE = {
    **_all(H, "schedule_name", "workflow_fn", "schedule", "context", "automatic_backfill"),
    "cron_timezone": DbosParam(H, "read in the zone; across a daylight-saving change the croniter package's times, "
                                  "not DBOS's (docs/cron.md)"),
    "queue_name": DbosParam(H, "ticks, triggers and backfills are enqueued on it (DBOS's internal queue without it)"),
    "shard_key": _SHARD_KEY,
}
_LIST_SCHEDULES = _all(H, "status", "workflow_name", "schedule_name_prefix", "application_name")
_BY_WORKFLOW_ID = {"workflow_id": DbosParam(H), "shard_key": _SHARD_KEY}
_RETRIEVE = {**_BY_WORKFLOW_ID, "existing_workflow": DbosParam(H)}
_LIST_FILTERS = {
    **_all(H, "workflow_ids", "status", "start_time", "end_time", "completed_after", "completed_before",
           "dequeued_after", "dequeued_before", "name", "app_version", "forked_from", "parent_workflow_id",
           "queue_name", "limit", "offset", "sort_desc", "workflow_id_prefix", "load_input", "load_output",
           "executor_id", "has_parent", "application_name"),
    "user": DbosParam(H, "the authenticated user recorded when the workflow started"),
    "attributes": DbosParam(H, "Postgres's JSONB containment, as DBOS on Postgres (DBOS on SQLite raises)"),
    **_all(P, "shard_key", "parent_shard_key", note="sharded system databases: not in the shim's signature (TypeError)",
           only="3.x"),
    "is_fork": DbosParam(P, "not in the shim's signature (TypeError)", "3.x"),
}
_QUEUE_ARGS = {
    **_all(H, "name", "concurrency", "limiter", "worker_concurrency", "global_concurrency"),
    "polling_interval_sec": DbosParam(I, "validated; the dispatcher is woken by enqueues and completions, never "
                                         "polls; on a Resonate server, how often a worker waiting for a slot "
                                         "another worker holds looks again"),
    **_all(H, "partition_concurrency", "partition_worker_concurrency", "partition_limiter",
           note="per partition key; any of them partitions the queue"),
}
_STEP_KEYS = {
    **_all(H, "function_id", "function_name", "output", "error", "child_workflow_id", "started_at_epoch_ms",
           "completed_at_epoch_ms"),
    "child_shard_key": DbosParam(P, "sharded system databases", "3.x"),
}
_FEATURE_PENDING = "None, as in DBOS when the feature that sets it is unused; that feature is pending"

# Every parameter, key, field, enum member and method of each DBOS name the shim honours or accepts
# (tests/ledger fails on one that is missing). A name that is pending or rejected raises before it
# reads its arguments, so its parameters share its status and are not listed.
PARAMS: dict[str, dict[str, DbosParam]] = {
    "Queue": {
        **_QUEUE_ARGS,
        **_all(P, "client_system_database", "application_name",
               note="another application's or database's queue: raises ShimUnsupportedError"),
        "database_backed_queue": DbosParam(H, "True makes a handle on a declared queue, as DBOS.enqueue_workflow does"),
        "priority_enabled": DbosParam(I, "priority is always honoured, as in DBOS 2.31", "2.x"),
        "partition_queue": DbosParam(H, "every limit applies per partition key", "2.x"),
        "token": DbosParam(P, "not in the shim's signature (TypeError)", "3.x"),
        **_all(H, ".enqueue", ".enqueue_async"),
        **_all(P, ".concurrency", ".global_concurrency", ".worker_concurrency", ".limiter", ".polling_interval_sec",
               ".partition_concurrency", ".partition_limiter", ".partition_worker_concurrency",
               note="readable as in DBOS (a property); recorded pending because the ledger checks methods only"),
        **_all(P, ".priority_enabled", ".partition_queue",
               note="readable as in DBOS (a property); recorded pending because the ledger checks methods only",
               only="2.x"),
        **_all(H, ".get_concurrency_async", ".get_global_concurrency_async", ".get_limiter_async",
               ".get_partition_concurrency_async", ".get_partition_limiter_async",
               ".get_partition_worker_concurrency_async", ".get_polling_interval_sec_async",
               ".get_worker_concurrency_async", ".set_concurrency", ".set_concurrency_async",
               ".set_global_concurrency", ".set_global_concurrency_async", ".set_limiter", ".set_limiter_async",
               ".set_partition_concurrency", ".set_partition_concurrency_async", ".set_partition_limiter",
               ".set_partition_limiter_async", ".set_partition_worker_concurrency",
               ".set_partition_worker_concurrency_async", ".set_polling_interval_sec",
               ".set_polling_interval_sec_async", ".set_worker_concurrency", ".set_worker_concurrency_async",
               note="setters work on queues declared with register_queue (DBOS's rule and messages); the "
                    "dispatcher applies them at once"),
        **_all(H, ".get_partition_queue_async", ".get_priority_enabled_async", ".set_partition_queue",
               ".set_partition_queue_async", ".set_priority_enabled", ".set_priority_enabled_async",
               note="setters work on queues declared with register_queue", only="2.x"),
    },
    "DBOS.register_queue": {
        **{k: v for k, v in _QUEUE_ARGS.items() if k not in ("concurrency", "limiter")},
        **_all(H, "concurrency", "limiter"),
        "on_conflict": DbosParam(H, "never_update keeps a queue already declared in this process"),
        "priority_enabled": DbosParam(I, "priority is always honoured, as in DBOS 2.31", "2.x"),
        "partition_queue": DbosParam(H, "every limit applies per partition key", "2.x"),
    },
    "DBOS.enqueue_workflow": _all(H, "queue_name", "func", "args", "kwargs"),
    "DBOS.enqueue_workflow_async": _all(H, "queue_name", "func", "args", "kwargs"),
    "SetEnqueueOptions": {
        **_all(H, "deduplication_id", "priority", "queue_partition_key"),
        "app_version": DbosParam(H, "recorded on the workflow (its status' app_version); the shim runs every version"),
        "delay_seconds": DbosParam(H, "DELAYED until due, durable across restarts; counted from SetEnqueueOptions' creation, as in DBOS"),
        "duplication_policy": DbosParam(H, "'return-existing' returns a handle on the holder of the deduplication id"),
    },
    "SetWorkflowTimeout": {"workflow_timeout_sec": DbosParam(H)},
    "SetWorkflowAttributes": {"attributes": DbosParam(H)},
    **{name: _all(H, "options", "args", "kwargs") for name in (
        "DBOS.enqueue_workflow_with_options", "DBOS.enqueue_workflow_with_options_async")},
    "EnqueueOptions": {
        **_all(H, "workflow_name", "queue_name", "workflow_id", "app_version", "workflow_timeout", "delay_seconds",
               "deduplication_id", "duplication_policy", "priority", "queue_partition_key"),
        **_all(P, "authenticated_user", "authenticated_roles", "serialization_type",
               "class_name", "instance_name", "attributes", "application_name", "otel_context",
               note="not recorded by the shim: raises ShimUnsupportedError naming the key"),
        "max_recovery_attempts": DbosParam(P, "not recorded by the shim: raises ShimUnsupportedError", "2.x"),
        **_all(P, "workflow_id_reuse_policy", "shard_key", note="not in the shim's EnqueueOptions", only="3.x"),
    },
    **{name: {"handles": DbosParam(H), "polling_interval_sec": DbosParam(I, "accepted; nothing polls")}
       for name in ("DBOS.wait_first", "DBOS.wait_first_async")},
    "DBOS.asyncio_wait": _all(H, "fs", "timeout", "return_when"),
    **{name: _all(H, "name") for name in ("DBOS.retrieve_queue", "DBOS.retrieve_queue_async", "DBOS.delete_queue",
                                          "DBOS.delete_queue_async")},
    **{name: {"application_name": DbosParam(H, "this application's queues are the only ones the shim has")}
       for name in ("DBOS.list_queues", "DBOS.list_queues_async")},
    "DBOS.listen_queues": _all(H, "queues"),
    "DuplicationPolicy": _all(P, "reject", "return-existing", note="both values are honoured; recorded pending "
                                                                   "because the ledger reads members as attributes"),
    "Debouncer": {
        **_all(H, "workflow_name", "debounce_timeout_sec", "queue", ".create", ".create_async", ".debounce",
               ".debounce_async"),
        "application_name": DbosParam(P, "the shim has one application: raises ShimUnsupportedError"),
    },
    "DebouncerClient": {
        **_all(H, "client", "workflow_options", "debounce_timeout_sec", "queue", ".debounce", ".debounce_async"),
        "application_name": DbosParam(P, "the shim has one application: raises ShimUnsupportedError"),
    },
    **{name: {**_all(H, "workflow_id", "delay_seconds", "delay_until_epoch_ms"), "shard_key": _SHARD_KEY}
       for name in ("DBOS.set_workflow_delay", "DBOS.set_workflow_delay_async")},
    **{name: {**_all(H, "workflow_id", "attributes"), "shard_key": _SHARD_KEY,
              "merge": DbosParam(P, "not in the shim's signature (TypeError): the 2.x call replaces them", "3.x")}
       for name in ("DBOS.update_workflow_attributes", "DBOS.update_workflow_attributes_async")},
    **{name: {"patch_name": DbosParam(H)}
       for name in ("DBOS.patch", "DBOS.patch_async", "DBOS.deprecate_patch", "DBOS.deprecate_patch_async")},
    **{name: {**_all(H, "workflow_id", "delete_children"), "shard_key": _SHARD_KEY}
       for name in ("DBOS.delete_workflow", "DBOS.delete_workflow_async")},
    **{name: {**_all(H, "workflow_ids", "delete_children"), "shard_key": _SHARD_KEY}
       for name in ("DBOS.delete_workflows", "DBOS.delete_workflows_async")},
    "StepInfo": _STEP_KEYS,
    "WorkflowSchedule": {**_all(H, "schedule_id", "schedule_name", "workflow_name", "workflow_class_name", "schedule",
                                "status", "context", "last_fired_at", "automatic_backfill", "cron_timezone",
                                "queue_name", "application_name"),
                         "shard_key": _SHARD_KEY},
    "ScheduleInput": {**_all(H, "schedule_name", "workflow_fn", "schedule", "context", "automatic_backfill",
                             "cron_timezone", "queue_name"),
                      "shard_key": _SHARD_KEY},
    "ClientScheduleInput": {**_all(H, "schedule_name", "workflow_name", "workflow_class_name", "schedule", "context",
                                   "automatic_backfill", "cron_timezone", "queue_name", "application_name"),
                            "shard_key": _SHARD_KEY},
    "DBOS.list_workflows": {
        **_LIST_FILTERS,
        **_all(H, "queues_only", "was_forked_from"),
        "schedule_name": DbosParam(H, "the schedule whose tick, trigger or backfill started the workflow"),
    },
    "DBOS.list_queued_workflows": _LIST_FILTERS,
    "DBOS.list_workflow_steps": {**_all(H, "workflow_id", "load_output", "limit", "offset"), "shard_key": _SHARD_KEY},
    "DBOS.cancel_workflow": {**_all(H, "workflow_id", "cancel_children"), "shard_key": _SHARD_KEY},
    "DBOS.cancel_workflows": {**_all(H, "workflow_ids", "cancel_children"), "shard_key": _SHARD_KEY},
    "DBOS.resume_workflow": {**_all(H, "workflow_id", "queue_name"), "shard_key": _SHARD_KEY},
    "DBOS.resume_workflows": {**_all(H, "workflow_ids", "queue_name"), "shard_key": _SHARD_KEY},
    "DBOS.fork_workflow": {
        **_all(H, "workflow_id", "start_step", "queue_name", "queue_partition_key", "timeout_seconds"),
        "application_version": DbosParam(H, "recorded on the fork (its status' app_version); the shim runs every "
                                            "version"),
        "replacement_children": DbosParam(P, "raises ShimUnsupportedError"),
        "shard_key": _SHARD_KEY,
    },
    "DBOS": {
        "config": DbosParam(H),
        "fastapi": DbosParam(P, "web framework middleware: raises ShimUnsupportedError", "2.x"),
        "flask": DbosParam(P, "web framework middleware: raises ShimUnsupportedError", "2.x"),
        **_all(I, "conductor_url", "conductor_key", note="DBOS Conductor has no counterpart; accepted without a warning"),
    },
    "DBOSConfig": {
        **_all(H, "name", "system_database_url", "application_version", "executor_id", "log_level",
               "console_log_level"),
        **_all(I, "sys_db_pool_size", "sys_db_polling_concurrency", "db_engine_kwargs", "otlp_log_level",
               "otlp_traces_endpoints", "otlp_logs_endpoints", "otlp_attributes", "dbos_system_schema",
               "enable_otlp", "conductor_key", "conductor_url", "conductor_executor_metadata",
               "use_listen_notify", "run_migrations", "notification_listener_polling_interval_sec",
               "notification_coalesce_sec", "scheduler_polling_interval_sec", "kafka_queue_polling_interval_sec",
               "otel_attribute_format", "max_executor_threads", note="no effect on Resonate; warns once"),
        **_all(I, "admin_port", "run_admin_server", note="no effect on Resonate; warns once", only="2.x"),
        **_all(I, "application_database_url", "database_url",
               note="only @DBOS.transaction uses it, which the shim rejects; warns once", only="2.x"),
        "system_database_engine": DbosParam(P, "raises ShimUnsupportedError: state lives in Resonate's store"),
        "serializer": DbosParam(P, "raises ShimUnsupportedError: values are pickled; custom serializers are pending"),
        "enable_patching": DbosParam(H, "enables DBOS.patch; the application version is PATCHING_ENABLED"),
        **_all(P, "auto_upgrade", "auto_upgrade_grace_sec", "auto_upgrade_interval_sec",
               "conductor_metadata_only_mode", "observability_query_timeout_sec", "sharding",
               "sys_db_idle_transaction_timeout_sec", "transact_enterprise_key",
               note="unknown to the shim: DBOS(config=...) raises DBOSInitializationError", only="3.x"),
    },
    "DBOS.launch": {},
    "DBOS.destroy": {
        "destroy_registry": DbosParam(H),
        "workflow_completion_timeout_sec": DbosParam(I, "accepted without a warning; destroy does not wait for workflows"),
    },
    "DBOS.workflow": {
        "name": DbosParam(H),
        "max_recovery_attempts": DbosParam(H, "executions counted durably; past the limit the workflow is "
                                              "MAX_RECOVERY_ATTEMPTS_EXCEEDED; None is no limit"),
        "serialization_type": DbosParam(P, "raises ShimUnsupportedError: values are always pickled"),
        "validate_args": DbosParam(P, "raises ShimUnsupportedError"),
        "auto_upgrade": DbosParam(P, "not in the shim's signature (TypeError)", "3.x"),
    },
    "DBOS.step": {
        **_all(H, "name", "retries_allowed", "interval_seconds", "max_attempts", "backoff_rate", "should_retry"),
        "preemptible": DbosParam(P, "True raises ShimUnsupportedError"),
        "timeout_seconds": DbosParam(P, "raises ShimUnsupportedError"),
    },
    "DBOS.run_step": _all(H, "dbos_step_options", "func", "args", "kwargs",
                          note="options as @DBOS.step's: timeout_seconds and preemptible raise ShimUnsupportedError"),
    "DBOS.run_step_async": _all(H, "dbos_step_options", "func", "args", "kwargs",
                                note="options as @DBOS.step's: timeout_seconds and preemptible raise ShimUnsupportedError"),
    "StepOptions": {
        **_all(H, "name", "retries_allowed", "interval_seconds", "max_attempts", "backoff_rate", "should_retry"),
        "preemptible": DbosParam(P, "True raises ShimUnsupportedError"),
        "timeout_seconds": DbosParam(P, "raises ShimUnsupportedError"),
    },
    "DBOS.logger": {}, "DBOS.workflow_id": {}, "DBOS.step_id": {}, "DBOS.step_status": {}, "DBOS.span": {}, "DBOS.tracer": {},
    "DBOS.config": {}, "DBOS.executor_id": {}, "DBOS.application_version": {},
    "DBOSConfiguredInstance": {"config_name": DbosParam(H)},
    "DBOS.dbos_class": {"class_name": DbosParam(H)},
    "DBOS.register_instance": {"inst": DbosParam(H)},
    "DBOS.required_roles": {"roles": DbosParam(H)},
    "DBOS.set_authentication": _all(H, "authenticated_user", "authenticated_roles"),
    "DBOSContextSetAuth": _all(H, "user", "roles"),
    "DBOSContextEnsure": {},
    "DBOS.authenticated_user": {},
    "DBOS.authenticated_roles": {},
    "DBOS.assumed_role": {},
    "DBOS.default_required_roles": {"roles": DbosParam(H)},
    # Composing
    "DBOS.start_workflow": _all(H, "func", "args", "kwargs"),
    "DBOS.start_workflow_async": _all(H, "func", "args", "kwargs"),
    "DBOS.retrieve_workflow": _RETRIEVE,
    "DBOS.retrieve_workflow_async": _RETRIEVE,
    "DBOS.get_result": _BY_WORKFLOW_ID,
    "DBOS.get_result_async": _BY_WORKFLOW_ID,
    "DBOS.get_workflow_status": _BY_WORKFLOW_ID,
    "DBOS.get_workflow_status_async": _BY_WORKFLOW_ID,
    "WorkflowHandle": _all(H, ".get_result", ".get_status", ".get_workflow_id"),
    "WorkflowHandleAsync": _all(H, ".get_result", ".get_status", ".get_workflow_id"),
    "WorkflowStatus": {
        **_all(H, "workflow_id", "status", "name", "class_name", "config_name", "input", "output", "error",
               "created_at", "updated_at", "completed_at"),
        **_all(H, "authenticated_user", "authenticated_roles", note="the caller's, recorded at the start (DBOSContextSetAuth)"),
        "assumed_role": DbosParam(H, "the role a directly called workflow assumed (required_roles), else its caller's"),
        "delay_until_epoch_ms": DbosParam(H, _FEATURE_PENDING),
        "attributes": DbosParam(H, "SetWorkflowAttributes at the start, then the latest update_workflow_attributes"),
        **_all(H, "queue_name", "workflow_timeout_ms", "workflow_deadline_epoch_ms", "deduplication_id",
               "queue_partition_key", "forked_from", "was_forked_from", "dequeued_at", "parent_workflow_id",
               "priority", note="from the workflow root's tags and markers (shim/_records.py, docs/queues.md)"),
        "executor_id": DbosParam(H, "'local', DBOS's default executor id"),
        "application_name": DbosParam(H, "the config's name"),
        "schedule_name": DbosParam(H, "the schedule whose tick, trigger or backfill started it; None for "
                                      "@DBOS.scheduled ticks, as in DBOS"),
        "app_version": DbosParam(H, "as DBOS 2.31 records it: the version asked for, else the running "
                                    "one (DBOS__APPVERSION, application_version, or the MD5 of the "
                                    "workflows' sources); recovery still ignores it (docs/DEVIATIONS.md)"),
        "app_id": DbosParam(H, "DBOS__APPID when the workflow started, else \"\", as DBOS records it"),
        "recovery_attempts": DbosParam(H, "executions of the body, counted durably"),
        **_all(P, "shard_key", "parent_shard_key", note="sharded system databases", only="3.x"),
    },
    "WorkflowStatusString": {
        **_all(H, "PENDING", "SUCCESS", "ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED", "CANCELLED", "ENQUEUED"),
        "DELAYED": DbosParam(H, "a workflow enqueued with delay_seconds, until its delay passes"),
    },
    "SetWorkflowID": {
        "wfid": DbosParam(H),
        "workflow_id_reuse_policy": DbosParam(P, "not in the shim's signature (TypeError)", "3.x"),
    },
    # Durable sleep and scheduling
    "DBOS.sleep": {"seconds": DbosParam(H)},
    "DBOS.sleep_async": {"seconds": DbosParam(H)},
    "DBOS.scheduled": {"cron": DbosParam(H, "DBOS's cron dialect, seconds field included (docs/cron.md)")},
    "DBOS.create_schedule": _CREATE_SCHEDULE,
    "DBOS.create_schedule_async": _CREATE_SCHEDULE,
    "DBOS.apply_schedules": {"schedules": DbosParam(H, "each entry's cron_timezone and queue_name as in create_schedule")},
    "DBOS.apply_schedules_async": {"schedules": DbosParam(H, "each entry's cron_timezone and queue_name as in create_schedule")},
    "DBOS.get_schedule": {"name": DbosParam(H)},
    "DBOS.get_schedule_async": {"name": DbosParam(H)},
    "DBOS.list_schedules": _LIST_SCHEDULES,
    "DBOS.list_schedules_async": _LIST_SCHEDULES,
    "DBOS.delete_schedule": {"name": DbosParam(H)},
    "DBOS.delete_schedule_async": {"name": DbosParam(H)},
    "DBOS.pause_schedule": {"name": DbosParam(H)},
    "DBOS.resume_schedule": {"name": DbosParam(H)},
    "DBOS.trigger_schedule": {"schedule_name": DbosParam(H)},
    "DBOS.backfill_schedule": _all(H, "schedule_name", "start", "end"),
    # Human-in-the-loop
    "DBOS.send": _SEND,
    "DBOS.send_async": _SEND,
    "DBOS.send_bulk": {
        "messages": DbosParam(H),
        "serialization_type": _SERIALIZATION,
        "send_to_forks": DbosParam(I, "the shim has no forks yet, so there is nothing more to send to"),
    },
    "DBOS.send_bulk_async": {
        "messages": DbosParam(H),
        "serialization_type": _SERIALIZATION,
        "send_to_forks": DbosParam(I, "the shim has no forks yet, so there is nothing more to send to"),
    },
    "SendMessage": {**_all(H, "destination_id", "message", "topic", "idempotency_key"), "shard_key": _SHARD_KEY},
    "DBOS.recv": _all(H, "topic", "timeout_seconds"),
    "DBOS.recv_async": _all(H, "topic", "timeout_seconds"),
    "DBOS.set_event": {**_all(H, "key", "value"), "serialization_type": _SERIALIZATION},
    "DBOS.set_event_async": {**_all(H, "key", "value"), "serialization_type": _SERIALIZATION},
    "DBOS.get_event": {**_all(H, "workflow_id", "key", "timeout_seconds"), "shard_key": _SHARD_KEY},
    "DBOS.get_event_async": {**_all(H, "workflow_id", "key", "timeout_seconds"), "shard_key": _SHARD_KEY},
    "DBOS.get_all_events": _BY_WORKFLOW_ID,
    "DBOS.get_all_events_async": _BY_WORKFLOW_ID,
    "DBOS.write_stream": {**_all(H, "key", "value"), "serialization_type": _SERIALIZATION},
    "DBOS.write_stream_async": {**_all(H, "key", "value"), "serialization_type": _SERIALIZATION},
    "DBOS.read_stream": _STREAM_READ,
    "DBOS.read_stream_async": _STREAM_READ,
    "DBOS.read_stream_offset": _STREAM_READ,
    "DBOS.read_stream_offset_async": _STREAM_READ,
    "DBOS.close_stream": {"key": DbosParam(H)},
    "DBOS.close_stream_async": {"key": DbosParam(H)},
    "DBOSClient": {
        **_all(H, "system_database_url", "application_name",
               note="a resonate+http:// URL (or RESONATE_URL) names a Resonate server and application_name the "
                    "workers' group; another URL is ignored: the client uses the store of the DBOS launched in its process"),
        **_all(I, "system_database_engine", "dbos_system_schema", "serializer",
               "system_database_pool_size", "system_database_polling_concurrency", "use_listen_notify",
               "lazy", "retry_connection_errors",
               note="accepted without a warning"),
        **_all(I, "database_url", "application_database_url",
               note="accepted without a warning: a client uses the store of the DBOS launched in its process",
               only="2.x"),
        **_all(P, "observability_query_timeout_sec", "sys_db_idle_transaction_timeout_sec", "sharding",
               note="not in the shim's signature (TypeError)", only="3.x"),
        **_all(H, ".send", ".send_async", ".send_bulk", ".send_bulk_async", ".get_event", ".get_event_async",
               ".retrieve_workflow", ".retrieve_workflow_async", ".read_stream", ".read_stream_async",
               ".read_stream_offset", ".read_stream_offset_async", ".destroy", ".check_connection",
               ".check_connection_async", note="from any process on a Resonate server (docs/server.md), else in the process that launched DBOS"),
        **_all(H, ".enqueue", ".enqueue_async", ".list_workflows", ".list_workflows_async", ".list_queued_workflows",
               ".list_queued_workflows_async", ".list_workflow_steps", ".list_workflow_steps_async",
               ".cancel_workflow", ".cancel_workflow_async", ".cancel_workflows", ".cancel_workflows_async",
               ".resume_workflow", ".resume_workflow_async", ".resume_workflows", ".resume_workflows_async",
               ".fork_workflow", ".fork_workflow_async",
               note="from any process on a Resonate server (enqueued work goes to the workers' group), else in the process that launched DBOS, which must register the workflow"),
        **_all(P, ".register_queue", ".register_queue_async", ".retrieve_queue",
               ".retrieve_queue_async", ".list_queues", ".list_queues_async", ".delete_queue",
               ".delete_queue_async", ".set_workflow_delay", ".set_workflow_delay_async", note="queues: issue 6"),
        **_all(H, ".delete_workflow", ".delete_workflow_async", ".delete_workflows", ".delete_workflows_async",
               ".wait_first", ".wait_first_async",
               note="as DBOS.delete_workflow(s) and DBOS.wait_first, never a durable operation; from any process "
                    "on a Resonate server, else in the process that launched DBOS"),
        **_all(H, ".update_workflow_attributes", ".update_workflow_attributes_async",
               note="as DBOS.update_workflow_attributes, never a durable operation"),
        **_all(H, ".create_schedule", ".create_schedule_async", ".apply_schedules", ".apply_schedules_async",
               ".get_schedule", ".get_schedule_async", ".list_schedules", ".list_schedules_async",
               ".delete_schedule", ".delete_schedule_async", ".pause_schedule", ".resume_schedule",
               ".trigger_schedule", ".backfill_schedule",
               note="the table DBOS.* schedules use, never a durable operation; from any process on a Resonate server "
                    "(its workers see a change at their next poll, within 30 s), else in the process that launched DBOS"),
        **_all(R, ".list_application_versions", ".list_application_versions_async",
               ".get_latest_application_version", ".get_latest_application_version_async",
               ".set_latest_application_version", ".set_latest_application_version_async",
               ".rename_application", ".rename_application_async", note="application versions have no counterpart"),
        **_all(R, ".enqueue_in_transaction", ".send_in_transaction", ".send_bulk_in_transaction",
               note="Resonate has no application database to share a transaction with"),
        **_all(P, ".rewind_workflow", ".rewind_workflow_async", only="3.x"),
    },
    "error": {
        **_all(H, "DBOSAwaitedWorkflowCancelledError", "DBOSAwaitedWorkflowMaxRecoveryAttemptsExceeded",
               "DBOSBaseException", "DBOSConflictingWorkflowError", "DBOSException", "DBOSInitializationError",
               "DBOSMaxStepRetriesExceeded", "DBOSNonExistentWorkflowError", "DBOSNotAuthorizedError",
               "DBOSPatchNondeterminismError", "DBOSQueueDeduplicatedError", "DBOSRecoveryError",
               "DBOSStepTimeoutError", "DBOSStreamNondeterminismError", "DBOSStreamTimeoutError",
               "DBOSUnexpectedStepError", "DBOSWorkflowCancelledError", "DBOSWorkflowConflictIDError",
               "DBOSWorkflowFunctionNotFoundError", "MaxRecoveryAttemptsExceededError",
               note="defined with DBOS's name and bases; raised where the shim has the feature"),
        "DBOSConflictingRegistrationError": DbosParam(H, "defined with DBOS's name and bases", "2.x"),
        **_all(P, "DBOSQueryTimeoutError", "DBOSStepNondeterminismError", "DBOSWorkflowIDInUseError",
               note="not defined in shim.errors", only="3.x"),
    },
}


# The *_async forms of the queue and management calls take the same parameters as the sync ones.
for _name in ("DBOS.register_queue", "DBOS.list_workflows", "DBOS.list_queued_workflows", "DBOS.list_workflow_steps",
              "DBOS.cancel_workflow", "DBOS.cancel_workflows", "DBOS.resume_workflow", "DBOS.resume_workflows",
              "DBOS.fork_workflow"):
    PARAMS[_name + "_async"] = PARAMS[_name]


def params_of(name: str) -> dict[str, DbosParam]:
    """The parameters recorded for a name (empty for a pending or rejected name: they share its status)."""
    return PARAMS.get(name, {})
