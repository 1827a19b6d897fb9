"""Operations tooling run from scripts/: backups (ops/backup.py) and the fault drill (ops/faults.py)."""
