"""Secrets the scoring function reads, and who may read them."""

import pulumi_gcp as gcp
import pulumi_random as random
import pulumiverse_time as time


class Vault:
    """Secrets of one application, each readable by the accounts granted on it."""

    def __init__(self, app: str, labels: dict[str, str]) -> None:
        self.app = app
        self.labels = labels
        self.secrets: dict[str, gcp.secretmanager.Secret] = {}

    def generated(self, key: str, rotate_days: int) -> gcp.secretmanager.Secret:
        """A random value, regenerated when the rotation period ends."""
        rotation = time.Rotating(f"{self.app}-{key}-rotation", rotation_days=rotate_days)
        value = random.RandomPassword(
            f"{self.app}-{key}", length=40, special=False, keepers={"rotation": rotation.rotation_rfc3339}
        )
        secret = gcp.secretmanager.Secret(
            f"{self.app}-{key}",
            secret_id=f"{self.app}-{key}",
            replication=gcp.secretmanager.SecretReplicationArgs(
                auto=gcp.secretmanager.SecretReplicationAutoArgs()
            ),
            labels=self.labels,
        )
        gcp.secretmanager.SecretVersion(f"{self.app}-{key}-value", secret=secret.id, secret_data=value.result)
        self.secrets[key] = secret
        return secret

    def grant(self, key: str, account: gcp.serviceaccount.Account) -> gcp.secretmanager.SecretIamMember:
        return gcp.secretmanager.SecretIamMember(
            f"{self.app}-{key}-reader",
            secret_id=self.secrets[key].id,
            role="roles/secretmanager.secretAccessor",
            member=account.member,
        )
