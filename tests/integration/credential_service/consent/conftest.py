from tests.integration.credential_service.consent.harness import consent_service

__all__ = ["consent_service"]
