from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting: calendar feeds and reminders"

    def ready(self):
        # Registers the review-reminder task: Celery's autodiscovery only imports <app>.tasks modules.
        from harvester import calendar_tasks  # noqa: F401
