"""The text of notification e-mails: one notification, or a user's daily digest."""

SUBJECT_PREFIX = "[Neuron Atlas]"


def notification_email(*, text, project_name, link):
    """``(subject, body)`` of the e-mail for one notification."""
    subject = f"{SUBJECT_PREFIX} {project_name}: {text}"[:200]
    body = f"{text}\n\nProject: {project_name}\nOpen it: {link}\n\n{_footer()}"
    return subject, body


def digest_email(*, username, items):
    """``(subject, body)`` of a daily digest; ``items`` are ``(project_name, text, link)``,
    oldest first."""
    count = len(items)
    subject = f"{SUBJECT_PREFIX} {count} notification{'' if count == 1 else 's'} today"
    lines = [f"Hello {username},", "", "Since the last digest:", ""]
    lines += [f"- {project_name}: {text}\n  {link}" for project_name, text, link in items]
    return subject, "\n".join(lines) + f"\n\n{_footer()}"


def _footer():
    return "You receive these e-mails because of your notification settings in Neuron Atlas."
