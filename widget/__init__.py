"""Browser code: the embeddable widget, the agent console and the merchant admin pages."""
