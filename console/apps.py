from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Admin console"

    def ready(self) -> None:
        # Queued encode and describe batches skip the figures of jobs an admin cancelled.
        from console.selectors.jobs import figures_held_by_cancelled_jobs
        from retrieval.services.work_gates import gate_register

        gate_register(figures_held_by_cancelled_jobs)
