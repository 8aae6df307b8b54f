from tests.integration.consent.harness import consent_service

__all__ = ["consent_service"]
