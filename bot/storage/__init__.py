"""Relational storage: engine, migrations, repositories. SQLite by default, PostgreSQL by URL."""

from bot.storage.conversations import Conversation, ConversationRepository, Message
from bot.storage.database import Database, PoolSize, connect, create_database, migrate
from bot.storage.documents import Document, DocumentRepository
from bot.storage.stores import Agent, NewStore, StoreRepository

__all__ = [
    "Agent",
    "Conversation",
    "ConversationRepository",
    "Database",
    "Document",
    "DocumentRepository",
    "Message",
    "NewStore",
    "PoolSize",
    "StoreRepository",
    "connect",
    "create_database",
    "migrate",
]
