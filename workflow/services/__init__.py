"""What gpw does, one service per job: projects, notices, contractors, calendar, directory.

Each service takes the :class:`~workflow.db.Database` (and the other services or the policy
registry it needs) in its constructor, writes through :mod:`workflow.store` inside
``Database.transaction(connection)`` and knows nothing of the ``Workflow`` facade.
"""
