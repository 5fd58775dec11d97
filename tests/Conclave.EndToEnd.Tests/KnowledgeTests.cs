using Conclave.Sessions.Contracts;
using Conclave.Testing;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

/// <summary>
/// Knowledge in the browser: a PDF uploaded through the files panel is indexed with its progress shown,
/// the answer cites it with a chip that opens the passage and the document at its page; libraries are
/// made, filled with several files and attached to a team from their pages.
/// </summary>
public sealed class KnowledgeTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    private const string Warranty = "Warranty. The Zephyr 3000 is under warranty for twenty-four months from the date of delivery.";

    [Fact]
    public async Task A_pdf_uploaded_in_a_session_shows_its_progress_then_an_answer_cites_it_and_the_chip_opens_the_page()
    {
        var session = await app.CreateSessionAsync("espresso manual");
        var page = await app.OpenAsync($"/sessions/{session.Id}");
        await Assertions.Expect(page.GetByTestId("file-dropzone")).ToHaveAttributeAsync("data-bound", "1");
        await Assertions.Expect(page.GetByTestId("files-add-to-knowledge")).ToBeCheckedAsync();
        // Folded while the session has no knowledge (and its user no library); it opens with the first document.
        await Assertions.Expect(page.GetByTestId("knowledge-empty")).ToBeAttachedAsync();
        // Every state the document's row is drawn in, as the page draws it.
        await page.EvaluateAsync("""
            () => {
              window.seenStates = [];
              const note = () => {
                for (const row of document.querySelectorAll("[data-testid=knowledge-document]")) {
                  const state = row.dataset.state + (row.querySelector("[data-testid=document-progress]") ? ":bar" : "");
                  if (window.seenStates.at(-1) !== state) window.seenStates.push(state);
                }
              };
              new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
            }
            """);

        // Enough text that embedding takes a while (full pages, ~200 tokens each): the bar is drawn before the document is ready.
        var pages = Enumerable.Range(1, 24)
            .Select(n => n == 7
                ? new[] { Warranty }
                : Enumerable.Range(1, 6).Select(k => $"Chapter {n}. Cleaning the group head of the machine, step {k}: rinse, brush, backflush and dry the portafilter basket {n + k} times.").ToArray())
            .ToArray();
        await page.GetByTestId("file-picker").SetInputFilesAsync(new FilePayload { Name = "manual.pdf", MimeType = "application/pdf", Buffer = TestDocuments.Pdf(pages) });

        var row = page.GetByTestId("knowledge-document");
        await Assertions.Expect(page.GetByTestId("knowledge")).ToHaveAttributeAsync("open", "");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "Ready", new() { Timeout = 60_000 });
        await Assertions.Expect(row.GetByTestId("document-ready")).ToBeVisibleAsync();
        var seen = await page.EvaluateAsync<string[]>("() => window.seenStates");
        Assert.Contains("Embedding:bar", seen);
        Assert.Equal("Ready", seen[^1]);

        app.Provider.Enqueue(
            Reply.ToolCall("search_knowledge", """{"query": "How long is the warranty of the Zephyr 3000?", "top_k": 3}"""),
            Reply.Text("The Zephyr 3000 is under warranty for twenty-four months [1]."));
        await page.GetByTestId("composer-text").FillAsync("How long is the warranty?");
        await page.GetByTestId("composer-text").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("run-state")).ToHaveAttributeAsync("data-status", "Completed", new() { Timeout = 60_000 });

        var chip = page.GetByTestId("citation-chip");
        await Assertions.Expect(chip).ToHaveCountAsync(1);
        await Assertions.Expect(chip).ToContainTextAsync("manual.pdf · p. 7");
        await chip.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(chip).ToHaveAttributeAsync("aria-expanded", "true");
        var passage = page.GetByTestId("citation-passage");
        await Assertions.Expect(passage).ToContainTextAsync("twenty-four months from the date of delivery");
        await passage.ScrollIntoViewIfNeededAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.DocsImage("knowledge-citation.png") });

        // The document opens beside the conversation, scrolled to the passage on its page.
        var viewer = await page.Context.RunAndWaitForPageAsync(() => passage.GetByTestId("citation-open").ClickAsync());
        await Assertions.Expect(viewer.GetByTestId("cited-passage")).ToContainTextAsync("Warranty. The Zephyr 3000");
        await Assertions.Expect(viewer.GetByTestId("cited-passage")).ToBeInViewportAsync();
        await Assertions.Expect(viewer.Locator("#page-7")).ToHaveTextAsync("Page 7");
        await Assertions.Expect(viewer.GetByTestId("document-download")).ToHaveAttributeAsync("download", "manual.pdf");
        Assert.EndsWith("#cited", viewer.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_library_is_created_filled_with_several_documents_and_attached_to_a_team()
    {
        var page = await app.OpenAsync("/knowledge");
        var name = "Field guides " + Guid.NewGuid().ToString("N")[..6];
        await page.GetByTestId("library-name-input").FillAsync(name);
        await Assertions.Expect(page.GetByTestId("library-name-input")).ToHaveValueAsync(name);
        await page.GetByTestId("create-library").ClickAsync();
        await app.WaitForUrlAsync(page, "**/knowledge/libraries/*", 30_000);
        await Assertions.Expect(page.GetByTestId("library-title")).ToHaveTextAsync(name);
        await Assertions.Expect(page.GetByTestId("library-dropzone")).ToHaveAttributeAsync("data-bound", "1");

        await page.GetByTestId("library-picker").SetInputFilesAsync(
        [
            new FilePayload { Name = "owls.md", MimeType = "text/markdown", Buffer = "# Owls\n\nTawny owls call at dusk."u8.ToArray() },
            new FilePayload { Name = "gulls.txt", MimeType = "text/plain", Buffer = "Herring gulls nest on roofs."u8.ToArray() },
            new FilePayload { Name = "empty.txt", MimeType = "text/plain", Buffer = [] },
        ]);

        var documents = page.GetByTestId("library-document");
        await Assertions.Expect(documents).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("[data-testid=library-document][data-state=Ready]")).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        var empty = page.Locator("[data-testid=library-document]", new() { HasText = "empty.txt" });
        await Assertions.Expect(empty).ToHaveAttributeAsync("data-state", "Failed");
        await Assertions.Expect(empty.GetByTestId("document-failure")).ToContainTextAsync("The file is empty");

        var assistant = page.Locator("[data-testid=library-team]", new() { HasText = "Assistant" }).Locator("input");
        await assistant.CheckAsync();
        await Assertions.Expect(assistant).ToBeCheckedAsync();
        await page.ReloadAsync();
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await Assertions.Expect(page.Locator("[data-testid=library-team]", new() { HasText = "Assistant" }).Locator("input")).ToBeCheckedAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = BrowserApp.ScreenshotPath("knowledge-library.png"), FullPage = true });

        // A session of that team shows the library as searched through the team.
        var session = await app.CreateSessionAsync("birds");
        var sessionPage = await app.OpenAsync($"/sessions/{session.Id}");
        var picked = sessionPage.Locator("[data-testid=knowledge-library]", new() { HasText = name });
        await Assertions.Expect(picked).ToContainTextAsync("through the team");
        await Assertions.Expect(picked.Locator("input")).ToBeCheckedAsync();
        await Assertions.Expect(picked.Locator("input")).ToBeDisabledAsync();

        var listPage = await app.OpenAsync("/knowledge");
        await Assertions.Expect(listPage.Locator("[data-testid=library-row]", new() { HasText = name })).ToContainTextAsync("3 documents");
    }
}
