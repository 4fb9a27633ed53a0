"""The project environment imports the whole vision and messaging stack (after `make setup`)."""

from __future__ import annotations

import subprocess
import sys


def test_vision_and_messaging_stack_imports() -> None:
    code = (
        "import face_recognition, cv2, pyzbar.pyzbar, paho.mqtt, zxingcpp;"
        "import face_recognition_models, numpy;"
        "print(cv2.__version__, numpy.__version__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()


def test_schema_export_cli_writes_valid_json_schemas(tmp_path: object) -> None:
    import json
    from pathlib import Path

    out = Path(str(tmp_path)) / "schemas"
    result = subprocess.run(
        [sys.executable, "-m", "models.cli", "schema", "export", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    schema = json.loads((out / "passage-event.schema.json").read_text())
    assert schema["title"] == "PassageEvent"
    assert "event_id" in schema["required"]
    assert schema["additionalProperties"] is False
    topics = json.loads((out / "topics.json").read_text())
    assert any(row["topic"].endswith("/events") for row in topics)
