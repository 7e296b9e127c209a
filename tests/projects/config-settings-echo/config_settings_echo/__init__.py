"""config-settings-echo: a pure package; its backend records config_settings."""

VALUE = "config-settings-echo"
