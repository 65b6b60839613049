"""Builds the agent and everything it needs, once, from settings (the API's lifespan and the CLI
call this; nothing here runs at import time)."""

from __future__ import annotations

from dataclasses import dataclass

from audit.audit_log import AuditLog
from config import Settings
from db.engine import create_schema, engine_from_settings, make_session_factory


@dataclass
class AgentServices:
    engine: object
    session_factory: object
    runner: object
    index: object
    nlu: object
    agent: object

    def close(self) -> None:
        self.engine.dispose()


def build_llm_brain(settings: Settings, index=None):
    """The LangChain brain when the settings ask for it, else None (offline)."""
    if settings.resolved_agent_mode != "llm" or not settings.openai_api_key:
        return None
    from agents.llm_brain import LLMBrain

    return LLMBrain.from_settings(settings, index=index)


def build_services(settings: Settings, llm_brain=None) -> AgentServices:
    from agents.agent import SupportAgent
    from agents.intent_model import load_or_train
    from agents.understanding import OfflineNLU
    from rag.embeddings import load_embedder
    from rag.policy_index import PolicyIndex
    from tools.registry import ToolRunner

    engine = engine_from_settings(settings)
    create_schema(engine)
    factory = make_session_factory(engine)
    runner = ToolRunner(factory, AuditLog(settings.audit_log_path))
    embedder = load_embedder(settings.model_dir)
    index = PolicyIndex.load_or_build(settings.policies_dir, settings.index_dir, embedder)
    nlu = OfflineNLU(embedder, load_or_train(settings.model_dir, embedder))
    if llm_brain is None:
        llm_brain = build_llm_brain(settings, index)
    elif getattr(llm_brain, "index", 1) is None:
        llm_brain.use_index(index)  # share the one index instead of loading a second
    agent = SupportAgent(settings, factory, runner, index, nlu, llm_brain)
    return AgentServices(engine, factory, runner, index, nlu, agent)


def services_for(settings: Settings, base: AgentServices, llm_brain=None) -> AgentServices:
    """Services for another database or other settings that reuse `base`'s policy index and
    language model (loading those takes seconds; this takes milliseconds). Evaluation runs
    and tests use it to give each case its own database."""
    from agents.agent import SupportAgent
    from tools.registry import ToolRunner

    engine = engine_from_settings(settings)
    create_schema(engine)
    factory = make_session_factory(engine)
    runner = ToolRunner(factory, AuditLog(settings.audit_log_path))
    if llm_brain is not None and getattr(llm_brain, "index", 1) is None:
        llm_brain.use_index(base.index)
    agent = SupportAgent(settings, factory, runner, base.index, base.nlu, llm_brain)
    return AgentServices(engine, factory, runner, base.index, base.nlu, agent)
