"""The catalog: integration and action configurations, validated and stored."""
