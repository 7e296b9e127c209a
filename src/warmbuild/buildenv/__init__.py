"""Persistent build environments: one isolated venv per (source tree, target interpreter).

The env lives at a path that depends only on the tree's real path and the interpreter's
identity (``key``). Each run decides what to do with it as a pure plan (``plan``), which a
locked session carries out (``session``): reused when nothing changed, synced in place by
warmbuild's own installer when the requirements did, recreated at the same path when the
interpreter changed or the manifest (``manifest``) cannot be trusted. Envs outside the cache
are registered in it (``registry``).

Unpinned build requirements are resolved when the env is created or the requests change (a
lock, in effect), and again only with ``--upgrade`` or ``--refresh-build-env``.
"""

from .env import BuildEnv, target_environ
from .key import default_root, env_path, interpreter_identity
from .manifest import MANIFEST, Damaged, Manifest, parse_manifest, read_manifest
from .plan import EnvInputs, EnvPlan, plan_env
from .registry import KnownEnv, known_envs, read_registry_entry, register
from .session import EnvInstaller, EnvReport, EnvSession, open_env

__all__ = [
    "MANIFEST",
    "BuildEnv",
    "Damaged",
    "EnvInputs",
    "EnvInstaller",
    "EnvPlan",
    "EnvReport",
    "EnvSession",
    "KnownEnv",
    "Manifest",
    "default_root",
    "env_path",
    "interpreter_identity",
    "known_envs",
    "open_env",
    "parse_manifest",
    "plan_env",
    "read_manifest",
    "read_registry_entry",
    "register",
    "target_environ",
]
