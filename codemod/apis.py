"""The one table of DBOS's public API.

For every public name of the real ``dbos`` package it says how the runtime shim supports it,
which lint code ``dbos2resonate check`` reports it under, and which codemod rule rewrites it.
The compatibility ledger, the rule docs and the tests all read this table; nothing else
restates it.

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
#   D2R113 queues (fan-out)
#   D2R201 transactions/SQL   D2R202 queue flow control D2R203 workflow management
#   D2R204 streams            D2R205 DBOSClient         D2R206 classes/instances
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
    DbosApi("DBOS.run_step", P, "D2R104", "issue 3 follow-up"),
    DbosApi("DBOS.run_step_async", P, "D2R104", "issue 3 follow-up"),
    DbosApi("DBOS.transaction", R, "D2R201", "Resonate has no database transactions; make it a step"),
    DbosApi("DBOS.sql_session", R, "D2R201", "Resonate has no application database"),
    DbosApi("DBOS.logger", H, "D2R108"),
    DbosApi("DBOS.workflow_id", H, "D2R109"),
    DbosApi("DBOS.step_id", H, "D2R109"),
    DbosApi("DBOS.step_status", H, "D2R109"),
    DbosApi("DBOS.span", I, "D2R209", "no tracing span; None"),
    DbosApi("DBOS.tracer", P, "D2R209"),
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
    DbosApi("SetWorkflowTimeout", P, "D2R207", "issue 6"),
    DbosApi("SetWorkflowAttributes", P, "D2R209"),
    DbosApi("DBOS.asyncio_wait", P, "D2R209"),
    DbosApi("DBOS.wait_first", P, "D2R209"),
    DbosApi("DBOS.wait_first_async", P, "D2R209"),
    # Durable sleep and scheduling
    DbosApi("DBOS.sleep", H, "D2R107"),
    DbosApi("DBOS.sleep_async", H, "D2R107"),
    DbosApi("DBOS.scheduled", H, "D2R110", "seconds-precise; DBOS's tick ids; missed ticks skipped as in DBOS (docs/scheduling.md)"),
    DbosApi("DBOS.create_schedule", H, "D2R110", "stored in the Resonate store; cron_timezone UTC only, queue_name pending"),
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
    DbosApi("WorkflowSchedule", P, "D2R110"),
    DbosApi("ScheduleInput", P, "D2R110"),
    DbosApi("ClientScheduleInput", P, "D2R110"),
    # Human-in-the-loop
    DbosApi("DBOS.send", H, "D2R111", "a durable promise per message slot; idempotency_key honoured; send_to_forks trivially (no forks)"),
    DbosApi("DBOS.send_async", H, "D2R111"),
    DbosApi("DBOS.send_bulk", H, "D2R111", "one durable operation; not one transaction: a crash can leave a prefix sent"),
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
    DbosApi("DBOS.write_stream", H, "D2R204", "entries are promises W:stream/K/i"),
    DbosApi("DBOS.write_stream_async", H, "D2R204"),
    DbosApi("DBOS.read_stream", H, "D2R204", "polling_interval_sec validated, inert: readers are woken, never poll"),
    DbosApi("DBOS.read_stream_async", H, "D2R204"),
    DbosApi("DBOS.read_stream_offset", H, "D2R204"),
    DbosApi("DBOS.read_stream_offset_async", H, "D2R204"),
    DbosApi("DBOS.close_stream", H, "D2R204"),
    DbosApi("DBOS.close_stream_async", H, "D2R204"),
    DbosApi("DBOSClient", H, "D2R205", "send, get_event, retrieve_workflow, read_stream in the process that launched DBOS; enqueue pending (issue 6)"),
    # Queues
    DbosApi("Queue", P, "D2R113", "issue 6"),
    DbosApi("DBOS.register_queue", P, "D2R113", "issue 6"),
    DbosApi("DBOS.register_queue_async", P, "D2R113", "issue 6"),
    DbosApi("DBOS.enqueue_workflow", P, "D2R113", "issue 6"),
    DbosApi("DBOS.enqueue_workflow_async", P, "D2R113", "issue 6"),
    DbosApi("DBOS.enqueue_workflow_with_options", P, "D2R113", "issue 6"),
    DbosApi("DBOS.enqueue_workflow_with_options_async", P, "D2R113", "issue 6"),
    DbosApi("DBOS.retrieve_queue", P, "D2R202", "issue 6"),
    DbosApi("DBOS.retrieve_queue_async", P, "D2R202", "issue 6"),
    DbosApi("DBOS.list_queues", P, "D2R202", "issue 6"),
    DbosApi("DBOS.list_queues_async", P, "D2R202", "issue 6"),
    DbosApi("DBOS.delete_queue", P, "D2R202", "issue 6"),
    DbosApi("DBOS.delete_queue_async", P, "D2R202", "issue 6"),
    DbosApi("DBOS.listen_queues", P, "D2R202", "issue 6"),
    DbosApi("SetEnqueueOptions", P, "D2R202", "issue 6"),
    DbosApi("EnqueueOptions", P, "D2R202", "issue 6"),
    DbosApi("Debouncer", P, "D2R202", "issue 6"),
    DbosApi("DebouncerClient", P, "D2R202", "issue 6"),
    DbosApi("DBOS.set_workflow_delay", P, "D2R202", "issue 6"),
    DbosApi("DBOS.set_workflow_delay_async", P, "D2R202", "issue 6"),
    # Workflow management
    DbosApi("DBOS.list_workflows", P, "D2R203", "issue 6"),
    DbosApi("DBOS.list_workflows_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.list_queued_workflows", P, "D2R203", "issue 6"),
    DbosApi("DBOS.list_queued_workflows_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.list_workflow_steps", P, "D2R203", "issue 6"),
    DbosApi("DBOS.list_workflow_steps_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.cancel_workflow", P, "D2R203", "issue 6"),
    DbosApi("DBOS.cancel_workflow_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.cancel_workflows", P, "D2R203", "issue 6"),
    DbosApi("DBOS.cancel_workflows_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.resume_workflow", P, "D2R203", "issue 6"),
    DbosApi("DBOS.resume_workflow_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.resume_workflows", P, "D2R203", "issue 6"),
    DbosApi("DBOS.resume_workflows_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.fork_workflow", P, "D2R203", "issue 6"),
    DbosApi("DBOS.fork_workflow_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.delete_workflow", P, "D2R203", "issue 6"),
    DbosApi("DBOS.delete_workflow_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.delete_workflows", P, "D2R203", "issue 6"),
    DbosApi("DBOS.delete_workflows_async", P, "D2R203", "issue 6"),
    DbosApi("DBOS.update_workflow_attributes", P, "D2R203"),
    DbosApi("DBOS.update_workflow_attributes_async", P, "D2R203"),
    DbosApi("StepInfo", P, "D2R203", "issue 6"),
    # Everything else DBOS has that Resonate has no counterpart for
    DbosApi("DBOS.kafka_consumer", R, "D2R209", "no Kafka integration in Resonate"),
    DbosApi("KafkaMessage", R, "D2R209", "no Kafka integration in Resonate"),
    DbosApi("DBOS.required_roles", I, "D2R209", "no authorization layer; decorator is a no-op"),
    DbosApi("DBOS.default_required_roles", I, "D2R209", "no authorization layer; decorator is a no-op"),
    DbosApi("DBOS.authenticated_user", P, "D2R209"),
    DbosApi("DBOS.authenticated_roles", P, "D2R209"),
    DbosApi("DBOS.assumed_role", P, "D2R209"),
    DbosApi("DBOS.set_authentication", P, "D2R209"),
    DbosApi("DBOSContextEnsure", P, "D2R209"),
    DbosApi("DBOSContextSetAuth", P, "D2R209"),
    DbosApi("DBOS.executor_id", H, "D2R209"),
    DbosApi("DBOS.application_version", H, "D2R209"),
    DbosApi("DBOS.alert_handler", R, "D2R209", "DBOS Conductor alerts have no counterpart"),
    DbosApi("DBOS.patch", P, "D2R209", "workflow versioning maps to Resonate's version="),
    DbosApi("DBOS.patch_async", P, "D2R209"),
    DbosApi("DBOS.deprecate_patch", P, "D2R209"),
    DbosApi("DBOS.deprecate_patch_async", P, "D2R209"),
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
    DbosApi("DuplicationPolicy", P, "D2R209"),
    DbosApi("StepOptions", P, "D2R104"),
    DbosApi("PropagateOtelContext", P, "D2R209"),
    DbosApi("make_pydantic_args_validator", P, "D2R209"),
    DbosApi("pydantic_args_validator", P, "D2R209"),
    DbosApi("error", H, "D2R101", "the shim's shim.errors mirrors DBOS's exception names and hierarchy"),
)

BY_NAME: dict[str, DbosApi] = {api.name: api for api in APIS}


def lookup(name: str) -> DbosApi | None:
    """The row for a name as user code writes it (``DBOS.recv``), or None if DBOS has no such API."""
    return BY_NAME.get(name)
