"""Action tools, one per module, each enforcing the business rules through policy_guard."""
