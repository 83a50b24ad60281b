"""The FastAPI application: REST under `/api`, `/health`, `/metrics`, and the dashboards' pages."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_fastapi_instrumentator import Instrumentator

import eldercare_platform.models  # noqa: F401 - every table registered before the first flush resolves FKs
from eldercare_common.logging import get_logger
from eldercare_platform.alarms.live import AlarmHub, IntakeWorker
from eldercare_platform.alarms.views import router as alarms_router
from eldercare_platform.alarms.views import types_router as alarm_types_router
from eldercare_platform.alerts.views import router as alerts_router
from eldercare_platform.areas.views import router as areas_router
from eldercare_platform.care_plans.views import router as care_plans_router
from eldercare_platform.core.api_docs import add_api_docs
from eldercare_platform.core.broker import BrokerLink
from eldercare_platform.core.clock import SYSTEM_CLOCK, Clock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.downlink import DownlinkPublisher
from eldercare_platform.core.errors import install_error_handling
from eldercare_platform.core.vendor import add_vendor_assets
from eldercare_platform.device_events.views import router as device_events_router
from eldercare_platform.devices.views import router as devices_router
from eldercare_platform.meals.views import router as meals_router
from eldercare_platform.meta.views import router as meta_router
from eldercare_platform.planning.solver import travel_model
from eldercare_platform.planning.views import router as planning_router
from eldercare_platform.residents.views import router as residents_router
from eldercare_platform.roster.views import router as roster_router
from eldercare_platform.supervision.monitor_views import router as supervision_monitor_router
from eldercare_platform.supervision.views import router as supervision_router
from eldercare_platform.system.views import health_router
from eldercare_platform.system.views import router as system_router
from eldercare_platform.tasks import service as tasks_service
from eldercare_platform.tasks.live import TaskHub
from eldercare_platform.tasks.views import me_router as my_tasks_router
from eldercare_platform.tasks.views import router as tasks_router
from eldercare_platform.users.views import router as users_router

log = get_logger(__name__)


def create_app(settings: ApiSettings, *, connect_broker: bool = True, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Build the app for these settings; `connect_broker=False` leaves MQTT out (unit tests).

    `clock` is the one "now" of the app: views (through `NowDep`), the intake worker and the live hub
    all read it. Tests pass a `FixedClock`.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        broker = BrokerLink(settings, client_id=f"eldercare-api-{os.getpid()}") if connect_broker else None
        publisher = DownlinkPublisher(settings.libpq_url, broker.client) if broker else None
        if broker and publisher:
            broker.start()
            publisher.start()
        app.state.broker = broker
        hub = AlarmHub(settings.libpq_url, settings.sqlalchemy_url, clock=clock)
        app.state.alarm_hub = hub
        task_hub = TaskHub(
            settings.libpq_url,
            settings.sqlalchemy_url,
            clock=clock,
            verified_within_m=settings.checkin_verified_within_m,
        )
        app.state.task_hub = task_hub
        intake = IntakeWorker(settings.libpq_url, settings.sqlalchemy_url, clock=clock) if connect_broker else None
        if connect_broker:
            hub.start()
            task_hub.start()
        if intake:
            intake.start()
        log.info("api started", environment=settings.environment)
        yield
        if intake:
            intake.stop()
        await hub.stop()
        await task_hub.stop()
        if publisher:
            publisher.stop()
        if broker:
            broker.stop()
        engine_for(settings.sqlalchemy_url, settings.db_pool_size).dispose()

    app = FastAPI(
        title="Eldercare platform API (虚拟养老院)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc come from our own origin: core/api_docs.py
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    add_api_docs(app, vendor_dir=settings.web_vendor_dir, openapi_url="/api/openapi.json")
    app.state.settings = settings
    app.state.clock = clock
    # urgent insertions (the task engine's) travel as the planner does: the same settings, the same model
    tasks_service.configure_urgent_routing(travel=travel_model(settings))
    # one error shape for every 4xx/5xx (core/errors.py), NUL refused; a photo upload may exceed 1 MiB
    install_error_handling(app, multipart_max_bytes=settings.photo_max_bytes + 64 * 1024)

    api = APIRouter(prefix="/api")
    routers = (
        users_router,
        areas_router,
        residents_router,
        devices_router,
        device_events_router,
        alarms_router,
        alarm_types_router,
        care_plans_router,
        roster_router,
        tasks_router,
        my_tasks_router,
        alerts_router,
        meals_router,
        planning_router,
        supervision_router,
        supervision_monitor_router,
        system_router,
        meta_router,
    )
    for router in routers:
        api.include_router(router)
    app.include_router(api)
    # A refused alarm request in the error shape with its code and context (`by`, `at`): Starlette picks this
    # handler over any generic HTTPException handler, as it matches the more specific class.
    app.include_router(health_router)
    Instrumentator(excluded_handlers=["/metrics", "/health"]).instrument(app).expose(app, include_in_schema=False)

    dashboards = settings.dashboards_dir
    add_vendor_assets(app, vendor_dir=settings.web_vendor_dir)  # /ui/vendor/<package>/, before /ui shadows it
    if dashboards.is_dir():
        app.mount("/ui", StaticFiles(directory=dashboards, html=True), name="dashboards")

        @app.get("/", include_in_schema=False)
        def root() -> RedirectResponse:
            return RedirectResponse("/ui/")

    return app
