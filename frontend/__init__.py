"""The customer and staff web portal (Flask). Entry point: frontend.app:create_app."""
