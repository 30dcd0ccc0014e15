"""docker-compose.yml runs web, worker, beat, PostgreSQL and Redis, each restarted and health-checked.

No container engine runs on the development machine, so the file is checked for what it must say;
the processes it starts are the ones CI runs by hand (gunicorn, celery worker and beat).
"""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def test_every_service_restarts_and_has_a_health_check():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "paper", "beat"}
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name
    for name in ("web", "worker", "paper", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy", name
        assert services[name]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?"), "secrets from the environment"
    assert "/healthz/" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert "-Q" not in services["worker"]["command"]  # every queue
    paper = services["paper"]["command"]
    assert paper[:4] == ["celery", "-A", "config", "worker"] and paper[paper.index("-Q") + 1] == "paper"
    # scalable: no fixed container name or host port on a worker
    for name in ("worker", "paper"):
        assert "container_name" not in services[name] and "ports" not in services[name], name
        assert f"--destination {name}@$$HOSTNAME" in services[name]["healthcheck"]["test"][1], name
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
