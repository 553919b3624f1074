"""Markdown written by people (comments, descriptions) to HTML that is safe to show anyone.

CommonMark with tables and strikethrough, raw HTML escaped rather than passed through, then
sanitized against a kept allow-list, so that neither the parser's output nor a parser bug can
put a script, an event handler, a style or a ``javascript:`` link on the page. ``@username``
becomes a mention only for the usernames the caller says are project members.
"""

import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "del",
        "table", "thead", "tbody", "tr", "th", "td",
        "span",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}}
# Spans exist only to mark mentions; their one class is all they may carry.
ALLOWED_ATTRIBUTE_VALUES = {"span": {"class": {"mention"}}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# "@ada", "@j.doe" (dots inside, not a sentence's full stop); not the "@" inside an email.
MENTION = re.compile(r"(?<![\w.@+-])@(\w(?:[\w.+-]*[\w+-])?)")

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    url_relative="deny",
)


def _mentions_rule(state):
    """Split text (outside code and links) at ``@username``: every username is recorded in
    ``env["mentions"]``, and those in ``env["members"]`` become ``mention`` tokens."""
    members = state.env.get("members", frozenset())
    found = state.env.setdefault("mentions", [])
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or in_link:
                children.append(token)
                continue
            children.extend(_split_mentions(token, members, found))
        block.children = children


def _split_mentions(token, members, found):
    pieces, start = [], 0
    for match in MENTION.finditer(token.content):
        username = match.group(1)
        found.append(username)
        if username not in members:
            continue
        pieces.append(Token("text", "", 0, content=token.content[start : match.start()]))
        pieces.append(Token("mention", "", 0, meta={"username": username}))
        start = match.end()
    if not pieces:
        return [token]
    pieces.append(Token("text", "", 0, content=token.content[start:]))
    return [piece for piece in pieces if piece.type != "text" or piece.content]


def _render_mention(renderer, tokens, index, options, env):
    return f'<span class="mention">@{html.escape(tokens[index].meta["username"])}</span>'


_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_markdown.core.ruler.push("mentions", _mentions_rule)
_markdown.add_render_rule("mention", _render_mention)
# Struck-through text is a deletion (``<del>``), the tag the allow-list knows.
_markdown.add_render_rule("s_open", lambda *args: "<del>")
_markdown.add_render_rule("s_close", lambda *args: "</del>")


def render_markdown(text, *, members=frozenset()):
    """Safe HTML for the markdown ``text``; ``@name`` is marked up for each name in
    ``members`` (the usernames of the project's members) and left as text otherwise."""
    return _cleaner.clean(_markdown.render(text, {"members": frozenset(members)}))


def may_mention(text):
    """False when ``text`` can mention nobody: it holds neither an "@" nor an entity ("&#64;"
    renders as one), so rendering it needs no member list."""
    return "@" in text or "&" in text


def mentioned_usernames(text):
    """Every distinct ``@username`` written in ``text`` outside code and links, in order."""
    env = {}
    _markdown.parse(text, env)
    return list(dict.fromkeys(env["mentions"]))
