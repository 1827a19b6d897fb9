from django.apps import AppConfig


class HarvesterConfig(AppConfig):
    name = "harvester"
    verbose_name = "Harvesting: policy and audit"

    def ready(self):
        # Authority that changes outside the proposal flow is audited too: logins, and the memberships,
        # trustees and account owners an administrator edits (the admin has no other hook we own).
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from accounts.models import Account, Membership, Owner
        from harvester import approval_tasks, policy

        assert approval_tasks  # imported to register its tasks: autodiscovery only finds tasks.py

        user_logged_in.connect(policy.audit_login, dispatch_uid="harvester.audit_login")
        user_login_failed.connect(policy.audit_login_failed, dispatch_uid="harvester.audit_login_failed")
        post_save.connect(policy.audit_membership_saved, sender=Membership, dispatch_uid="harvester.membership_saved")
        post_delete.connect(
            policy.audit_membership_deleted, sender=Membership, dispatch_uid="harvester.membership_deleted"
        )
        for through in (Owner.trustees.through, Account.owners.through):
            m2m_changed.connect(policy.audit_m2m_authority, sender=through, dispatch_uid=f"harvester.{through.__name__}")
