"""A store's knowledge base: its documents, the jobs that index them, and search over them."""

from bot.knowledge_base.documents import KnowledgeBase
from bot.knowledge_base.ingestion import INGEST_JOB, REINDEX_JOB, FileIngestion
from bot.knowledge_base.originals import Originals, Upload
from bot.knowledge_base.questions import QUESTIONS_JOB, QuestionsJob, QuestionWriter
from bot.storage.documents import Document

__all__ = [
    "INGEST_JOB",
    "QUESTIONS_JOB",
    "REINDEX_JOB",
    "Document",
    "FileIngestion",
    "KnowledgeBase",
    "Originals",
    "QuestionWriter",
    "QuestionsJob",
    "Upload",
]
