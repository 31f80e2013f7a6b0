from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "tongban.cli"
    label = "tongban_cli"
    verbose_name = "命令行"

    def ready(self):
        from django.core import checks

        from tongban.services.certificates import check_configuration

        checks.register(check_configuration)
