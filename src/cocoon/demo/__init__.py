"""`cocoon demo`: the whole daemon in a simulated home, on an embedded broker, a day a minute.

`home` makes the example configuration self-contained and writes the day's script,
`broker` and `dashboard` are the demo's MQTT world, `view` draws a frame (pure),
`snapshot` reads one from the running pieces, and `runner` puts it all together.
"""
