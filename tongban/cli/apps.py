from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "tongban.cli"
    label = "tongban_cli"
    verbose_name = "命令行"
