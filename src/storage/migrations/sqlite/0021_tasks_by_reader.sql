-- A reader's tasks in a project, by kind and state (docs/workflow.md): counting a reader's
-- readings (the wash-out of repeat reads, on every submit and claim) and listing their open
-- repeats (on every claim) walked every task of the project before, through
-- tasks_by_project_state, so claims and submits slowed down as the project grew.

CREATE INDEX tasks_by_reader ON tasks (project_id, assignee, kind, state);
