using System.Text;
using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

public sealed class FilesPanelTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task A_file_uploaded_through_the_panel_is_listed_downloaded_and_deleted_from_the_keyboard()
    {
        var session = await app.CreateSessionAsync("files");
        var page = await OpenSessionAsync(session.Id);
        var content = Encoding.UTF8.GetBytes("city,temp\nOslo,3\n");

        await page.GetByTestId("file-picker").SetInputFilesAsync(new FilePayload { Name = "weather.csv", MimeType = "text/csv", Buffer = content });

        await Assertions.Expect(page.GetByTestId("upload-status")).ToHaveTextAsync("Uploaded weather.csv");
        await Assertions.Expect(page.GetByTestId("upload-progress")).ToHaveAttributeAsync("value", "100");
        var row = page.Locator("[data-testid=file][data-path='weather.csv']");
        await Assertions.Expect(row.GetByTestId("file-size")).ToHaveTextAsync("17 B");
        await page.GetByTestId("files").ScreenshotAsync(new LocatorScreenshotOptions { Path = BrowserApp.ScreenshotPath("files-panel.png") });

        var download = await page.RunAndWaitForDownloadAsync(() => row.GetByTestId("file-download").ClickAsync());
        Assert.Equal("weather.csv", download.SuggestedFilename);
        Assert.Equal(content, await File.ReadAllBytesAsync(await download.PathAsync()));

        await row.GetByTestId("file-delete").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("files-empty")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_file_dropped_on_the_panel_is_uploaded()
    {
        var session = await app.CreateSessionAsync("drop");
        var page = await OpenSessionAsync(session.Id);
        var dropped = await page.EvaluateHandleAsync(
            "() => { const d = new DataTransfer(); d.items.add(new File(['dropped'], 'notes.txt', { type: 'text/plain' })); return d; }");

        await page.GetByTestId("file-dropzone").DispatchEventAsync("drop", new { dataTransfer = dropped });

        await Assertions.Expect(page.GetByTestId("upload-status")).ToHaveTextAsync("Uploaded notes.txt");
        await Assertions.Expect(page.Locator("[data-testid=file][data-path='notes.txt']")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_file_over_the_upload_limit_shows_what_to_do()
    {
        var session = await app.CreateSessionAsync("too large");
        var page = await OpenSessionAsync(session.Id);

        await page.GetByTestId("file-picker").SetInputFilesAsync(
            new FilePayload { Name = "huge.bin", MimeType = "application/octet-stream", Buffer = new byte[ConclaveApp.MaxUploadBytes + 1] });

        await Assertions.Expect(page.GetByTestId("files-error")).ToContainTextAsync("at most 1 MiB");
        await Assertions.Expect(page.GetByTestId("files-empty")).ToBeVisibleAsync();
    }


    /// <summary>Opens the page and waits until the panel's upload handlers are bound (the circuit is live).</summary>
    private async Task<IPage> OpenSessionAsync(Guid sessionId)
    {
        var page = await app.OpenAsync($"/sessions/{sessionId}");
        await Assertions.Expect(page.GetByTestId("file-dropzone")).ToHaveAttributeAsync("data-bound", "1");
        return page;
    }
}
