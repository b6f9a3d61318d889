"""What each ported case (tests/dbos_suite/cases.py) is expected to do on the shim.

``PASS``: the shim's trace equals real DBOS's. ``KnownFailure``: it does not, for a reason recorded
in docs/DEVIATIONS.md under the heading whose anchor is ``deviation``. A known failure runs as a
strict xfail, so when the shim starts to match DBOS the test fails (XPASS) until the entry here is
turned into ``PASS``; the README's pass rate is computed from this table
(``python -m tests.dbos_suite.report``), so it cannot claim more than the tests show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class KnownFailure:
    deviation: str  # anchor of a heading in docs/DEVIATIONS.md
    observed: str  # what differs, in a line


PASS: Final = "pass"

EXPECTATIONS: dict[str, str | KnownFailure] = {
    # tests/test_dbos.py
    "workflow_steps_run_once_per_id": PASS,
    "child_workflows_and_assigned_child_ids": PASS,
    "failed_workflow_reraises_stored_error": PASS,
    "steps_outside_workflows": PASS,
    "workflow_returning_none": PASS,
    "start_workflow_once_per_id": PASS,
    "retrieve_workflow_and_statuses": PASS,
    "statuses_read_inside_a_workflow": PASS,
    "durable_sleep_not_repeated": PASS,
    "send_recv_topics_timeouts_and_once_only": PASS,
    "send_from_outside_a_workflow": PASS,
    "events_set_get_and_timeouts": PASS,
    "event_readable_while_the_workflow_runs": PASS,
    "values_that_cannot_be_stored": PASS,
    "destroy_then_launch_again": PASS,
    "recovery_attempts_count_executions": PASS,
    "status_strings_as_an_enum": PASS,
    # tests/test_failures.py
    "step_retries_exhausted": PASS,
    "step_status_counts_attempts": PASS,
    # tests/test_concurrency.py
    "concurrent_workflows": PASS,
    "same_id_started_again_while_running": PASS,
    # tests/test_async.py
    "async_workflow_and_steps": PASS,
    "async_workflows_run_on_the_callers_loop": PASS,
    "retrieve_workflow_async": PASS,
    "unawaited_child_workflows_finish": PASS,
    "blocking_calls_refused_on_an_event_loop": PASS,
    "child_workflow_ids_and_parents": PASS,
    "workflow_outlives_a_cancelled_task": PASS,
    "get_all_events": PASS,
    "async_messages_events_and_bulk_send": PASS,
    # tests/test_classdecorators.py
    "static_and_class_method_workflows": PASS,
    "configured_instance_workflows": PASS,
    "duplicate_instance_registration": PASS,
    # tests/test_streaming.py
    "streams_write_close_read": PASS,
    # tests/test_queue.py, tests/test_workflow_management.py, tests/test_dbos.py (timeouts, listing)
    "queue_runs_an_enqueued_workflow_once": PASS,
    "workflow_timeout_cancels": PASS,
    "cancel_then_resume": PASS,
    "fork_from_a_step": PASS,
    "list_workflows_by_id_prefix_and_time": PASS,
    # tests/test_dbos.py, tests/test_streaming.py: messages, events and streams at their edges
    "messaging_outside_a_workflow_is_refused": PASS,
    "send_to_a_missing_workflow_fails": PASS,
    "send_none_is_a_message": PASS,
    "recv_topics_are_queues_in_send_order": PASS,
    "recv_timeout_is_recorded": PASS,
    "messages_sent_before_recv_wait": PASS,
    "send_from_a_workflow_once_per_id": PASS,
    "get_event_timeouts_inside_and_outside": PASS,
    "events_keep_the_last_value_and_none": PASS,
    "get_event_waits_for_the_event": PASS,
    "set_event_once_per_id": PASS,
    "stream_values_in_order_and_offsets": PASS,
    "stream_ends_when_the_workflow_ends": PASS,
    "stream_read_while_written": PASS,
    "stream_written_from_a_step": PASS,
    "several_streams_of_one_workflow": PASS,
    # tests/test_workflow_management.py, tests/test_workflow_introspection.py
    "list_workflows_filters": PASS,
    "list_workflows_without_input_or_output": PASS,
    "list_children_by_parent": PASS,
    "list_workflow_steps_records": PASS,
    "workflow_status_fields": PASS,
    "custom_workflow_and_step_names": PASS,
    "cancel_a_finished_workflow": PASS,
    "cancel_and_resume_missing_workflows": PASS,
    "cancel_stops_at_the_next_step": PASS,
    "resume_a_failed_workflow": PASS,
    "fork_assigned_id_and_status": PASS,
    "fork_past_the_last_step": PASS,
    "fork_reuses_child_results": PASS,
    "fork_waits_for_children_started_before_the_fork_point": PASS,
    "resume_a_pending_workflow_runs_it_once": PASS,
    # tests/test_async.py, tests/test_async_workflow_management.py
    "async_steps_retry_and_report_attempts": PASS,
    "async_sleep_recv_and_events": PASS,
    "async_management_calls": PASS,
    "async_send_and_recv_between_workflows": PASS,
    "async_gather_of_workflows": PASS,
    "async_workflow_error_and_retrieve": PASS,
    "async_run_step": PASS,
    "async_streams": PASS,
    "async_child_started_and_awaited_later": PASS,
    # tests/test_dbos.py, tests/test_async.py, tests/test_failures.py: recovery through destroy and launch
    "launch_recovers_a_workflow_left_pending": PASS,
    "recovered_async_workflow": PASS,
    "recovery_reuses_a_finished_child": PASS,
    "recovered_workflow_still_receives": PASS,
    "max_recovery_attempts_exceeded": PASS,
    # tests/test_workflow_introspection.py, tests/test_streaming.py: what the listings report
    "steps_of_send_and_recv": PASS,
    "steps_of_events": PASS,
    "steps_of_children_and_status_reads": PASS,
    "steps_limit_offset_and_load_output": PASS,
    "steps_of_a_step_started_as_a_workflow": PASS,
    "steps_of_streams": PASS,
    "list_workflows_by_prefixes_and_times": PASS,
    # tests/test_dbos.py, tests/test_async.py: ids, context, arguments, values, timeouts
    "set_workflow_id_nests_and_restores": PASS,
    "context_inside_steps_and_outside": PASS,
    "workflow_inputs_as_recorded": PASS,
    "values_keep_their_python_types": PASS,
    "same_id_different_workflow_conflicts": PASS,
    "timeout_fields_and_child_deadlines": PASS,
    "step_started_as_a_workflow": PASS,
    "sleep_and_run_step_outside_a_workflow": PASS,
    "workflow_called_from_a_step": PASS,
    "workflow_started_or_enqueued_from_a_step": PASS,
    "authentication_recorded_and_inherited": PASS,
    "required_roles_refuse_and_assume": PASS,
    "required_roles_queued_async_and_recovered": PASS,
    # tests/test_classdecorators.py
    "instance_steps_and_status_names": PASS,
    "class_and_static_steps": PASS,
    "custom_class_names": PASS,
    "instance_workflows_send_and_events": PASS,
    "async_instance_workflows": PASS,
    # tests/test_failures.py
    "step_retries_message_and_errors": PASS,
    "nondeterministic_workflow_restart": PASS,
    "keyboard_interrupt_leaves_the_workflow_pending": PASS,
    "keyboard_interrupt_in_a_child_a_body_and_an_async_step": PASS,
    "exception_that_cannot_be_rebuilt": PASS,
    "resume_after_max_recovery_attempts": PASS,
    "should_retry_and_backoff": PASS,
}


def known_failures() -> dict[str, KnownFailure]:
    return {name: e for name, e in EXPECTATIONS.items() if isinstance(e, KnownFailure)}
