"""The planner-executor loop: one task from retrieved cases through plans, subtasks and tool calls to an answer and a new case."""
