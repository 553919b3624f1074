import pytest

from annotations.formats.markdown import may_mention, mentioned_usernames, render_markdown

REL = 'rel="nofollow noopener noreferrer"'


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ("hi <img src=x onerror=alert(1)>", "<p>hi &lt;img src=x onerror=alert(1)&gt;</p>\n"),
        ("<svg onload=alert(1)>", "<p>&lt;svg onload=alert(1)&gt;</p>\n"),
        (
            '<iframe src="https://evil.example"></iframe>',
            '<p>&lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;</p>\n',
        ),
        (
            '<a href="https://x.org" onclick="steal()">x</a>',
            '<p>&lt;a href="https://x.org" onclick="steal()"&gt;x&lt;/a&gt;</p>\n',
        ),
        ('<p style="color:red">red</p>', '<p>&lt;p style="color:red"&gt;red&lt;/p&gt;</p>\n'),
    ],
    ids=["script", "img-onerror", "svg-onload", "iframe", "onclick", "style"],
)
def test_raw_html_is_shown_as_text_never_as_markup(markdown, html):
    assert render_markdown(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        ("[x](JAVASCRIPT:alert(1))", "<p>[x](JAVASCRIPT:alert(1))</p>\n"),
        ("[x](jav&#x61;script:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        ("[x](&#106;avascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n"),
        (
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>\n",
        ),
        ("[x](vbscript:msgbox)", "<p>[x](vbscript:msgbox)</p>\n"),
        ("[x][r]\n\n[r]: javascript:alert(1)", "<p>[x][r]</p>\n<p>[r]: javascript:alert(1)</p>\n"),
        (
            '[x](https://x.org/" onmouseover="alert(1))',
            '<p>[x](https://x.org/" onmouseover="alert(1))</p>\n',
        ),
    ],
    ids=[
        "javascript",
        "uppercase",
        "hex-entity",
        "decimal-entity",
        "autolink",
        "data",
        "vbscript",
        "reference",
        "attribute-breakout",
    ],
)
def test_dangerous_links_do_not_become_links(markdown, html):
    assert render_markdown(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("[x](/projects/curves)", f"<p><a {REL}>x</a></p>\n"),
        ("[x](ftp://x.org/file)", f"<p><a {REL}>x</a></p>\n"),
        ("![diagram](https://x.org/a.png)", "<p></p>\n"),
    ],
    ids=["relative", "ftp", "image"],
)
def test_what_the_parser_allows_but_the_allow_list_does_not_is_stripped(markdown, html):
    assert render_markdown(markdown) == html


def test_links_to_http_https_and_mailto_keep_their_address_and_get_rel():
    markdown = '[post](https://distill.pub "Circuits") <http://x.org> <mailto:olah@example.org>'

    assert render_markdown(markdown) == (
        f'<p><a href="https://distill.pub" title="Circuits" {REL}>post</a> '
        f'<a href="http://x.org" {REL}>http://x.org</a> '
        f'<a href="mailto:olah@example.org" {REL}>mailto:olah@example.org</a></p>\n'
    )


def test_allowed_markup_survives():
    markdown = (
        "# Curves\n###### small\n\n> quoted\n\n- a\n\n1. b\n\n**b** _e_ `c` ~~d~~ x  \ny\n\n"
        "```python\nx = 1\n```\n\n| a |\n|---|\n| 1 |\n\n---"
    )

    assert render_markdown(markdown) == (
        "<h1>Curves</h1>\n<h6>small</h6>\n<blockquote>\n<p>quoted</p>\n</blockquote>\n"
        "<ul>\n<li>a</li>\n</ul>\n<ol>\n<li>b</li>\n</ol>\n"
        "<p><strong>b</strong> <em>e</em> <code>c</code> <del>d</del> x<br>\ny</p>\n"
        '<pre><code class="language-python">x = 1\n</code></pre>\n'
        "<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n</tr>\n</tbody>\n</table>\n<hr>\n"
    )


def test_mentions_of_members_are_marked_up_and_others_stay_text():
    html = render_markdown("@ada and @ghost, see @ada.", members={"ada"})

    assert html == (
        '<p><span class="mention">@ada</span> and @ghost, see '
        '<span class="mention">@ada</span>.</p>\n'
    )


def test_no_mention_inside_code_links_or_email_addresses():
    markdown = "`@ada` [@ada](https://x.org) ada@example.org\n\n    @ada"

    assert render_markdown(markdown, members={"ada"}) == (
        f'<p><code>@ada</code> <a href="https://x.org" {REL}>@ada</a> ada@example.org</p>\n'
        "<pre><code>@ada\n</code></pre>\n"
    )


def test_mentioned_usernames_are_distinct_in_order_outside_code():
    markdown = "@voss, @j.doe and @voss again. `@goh` [@olah](https://x.org) @ada_l"

    assert mentioned_usernames(markdown) == ["voss", "j.doe", "ada_l"]


@pytest.mark.parametrize(
    ("text", "may"),
    [("Curves, no one named.", False), ("Ask @ada.", True), ("Ask &#64;ada.", True)],
)
def test_only_a_text_with_an_at_sign_or_an_entity_may_mention_anyone(text, may):
    assert may_mention(text) is may
