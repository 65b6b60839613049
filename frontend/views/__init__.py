"""Blueprints, one per area: auth, orders, tickets (customers); staff, policies (staff)."""
