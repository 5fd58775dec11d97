using Conclave.Identity.Contracts;
using Conclave.Testing.Host;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

public sealed class AdminPageTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task An_admin_registers_a_confidential_client_sees_its_secret_once_and_deletes_it()
    {
        await app.CreateUserAsync("boss");
        await app.MakeAdminAsync("boss");

        var page = await app.NewAnonymousPageAsync();
        await page.GotoAsync("/login");
        await page.GetByTestId("login-user").FillAsync("boss");
        await page.GetByTestId("login-password").FillAsync(ConclaveApp.Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        // Clicks before the page is interactive are plain HTML (see BrowserApp.OpenAsync).
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await page.GetByTestId("user-menu-button").ClickAsync();
        await page.GetByTestId("admin-link").ClickAsync();
        await page.Locator("[data-testid=admin][data-interactive=true]").WaitForAsync();
        await Assertions.Expect(page.GetByTestId("users")).ToContainTextAsync("boss");
        // The egress policy is shown read-only: what is refused, and the allow-list (the test provider's port).
        await Assertions.Expect(page.GetByTestId("egress-denied")).ToContainTextAsync("169.254.0.0/16");
        await Assertions.Expect(page.GetByTestId("egress-allow-list")).ToContainTextAsync($"127.0.0.1:{app.Provider.BaseUrl.Port}");

        await page.GetByTestId("client-id").FillAsync("nightly-report");
        await page.GetByTestId("client-type").SelectOptionAsync("true");
        await page.GetByTestId("create-client").ClickAsync();

        var secret = page.GetByTestId("client-secret");
        await Assertions.Expect(secret).ToBeVisibleAsync();
        Assert.True((await secret.TextContentAsync())!.Length >= 40);
        var row = page.Locator("[data-testid=client-row]", new() { HasText = "nightly-report" });
        await Assertions.Expect(row).ToContainTextAsync("confidential");

        await page.ReloadAsync();
        await page.Locator("[data-testid=admin][data-interactive=true]").WaitForAsync();
        await Assertions.Expect(page.GetByTestId("client-secret")).ToHaveCountAsync(0);
        await row.GetByTestId("delete-client").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
    }
}
