"""Plain building blocks every domain shares (公共基础): months, SQL files, paths and secrets, durable files, digests,
the working-day calendar, Excel copies."""
