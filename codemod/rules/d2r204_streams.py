"""D2R204 stream-offsets: ``read_stream_offset`` is left to a person (D2R115 converts the rest of streams)."""

from __future__ import annotations

from codemod.rules.base import Rule

RULE = Rule(
    code='D2R204',
    name='stream-offsets',
    summary='`read_stream_offset` is not converted: read the entry promise by its id',
    explanation=(
        'D2R115 turns `write_stream`, `close_stream` and `read_stream` into durable promise entries '
        '`{workflow_id}:stream/{key}/{i}`. `read_stream_offset(workflow_id, key, offset)` reads one entry and raises '
        'DBOSStreamTimeoutError past the end; migrate does not convert it: read the promise '
        '`{workflow_id}:stream/{key}/{offset}` (its value is the `json` field of the envelope, a rejected entry '
        'is the end of the stream).'
    ),
    todo_reason='read_stream_offset is not converted: read the entry promise `{workflow_id}:stream/{key}/{offset}`',
    fixable=False,
)
