# Read by nbgrader (validate, the Validate button) when Jupyter starts in this folder.
c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)
c.Execute.timeout = 300  # seconds per cell: the training cells take up to a minute
