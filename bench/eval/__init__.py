"""The conversation evaluation (`make eval`): fixture, cases, runner and grading."""
