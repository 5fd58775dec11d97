using Conclave.Testing.Host;
using Microsoft.Playwright;

namespace Conclave.EndToEnd.Tests;

public sealed class SignInTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task A_user_registers_creates_a_session_logs_out_and_another_user_cannot_open_it()
    {
        var page = await app.NewAnonymousPageAsync();
        await page.GotoAsync("/");
        await app.WaitForUrlAsync(page, "**/login**");
        await page.GetByTestId("register-link").ClickAsync();
        await RegisterAsync(page, "ada");
        await page.Locator("[data-interactive=true]").WaitForAsync();
        await Assertions.Expect(page.GetByTestId("user-name")).ToHaveTextAsync("ada");

        await page.GetByTestId("new-session").ClickAsync();
        await app.WaitForUrlAsync(page, "**/sessions/*");
        var sessionUrl = page.Url;
        await page.Locator("[data-testid=session][data-interactive=true]").WaitForAsync();

        await page.GetByTestId("user-menu-button").ClickAsync();
        await page.GetByTestId("logout").ClickAsync();
        await app.WaitForUrlAsync(page, "**/login**");
        await page.GotoAsync(sessionUrl);
        await app.WaitForUrlAsync(page, "**/login**");

        // Another user, signed in through the login form, finds nothing at Ada's address.
        await app.CreateUserAsync("grace");
        await page.GetByTestId("login-user").FillAsync("grace");
        await page.GetByTestId("login-password").FillAsync(ConclaveApp.Password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForURLAsync(sessionUrl);
        await Assertions.Expect(page.GetByTestId("user-name")).ToHaveTextAsync("grace");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("not found", new() { IgnoreCase = true });
        await Assertions.Expect(page.GetByTestId("composer-text")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_wrong_password_is_explained_on_the_login_page()
    {
        var page = await app.NewAnonymousPageAsync();
        await page.GotoAsync("/login");

        await page.GetByTestId("login-user").FillAsync(ConclaveApp.DefaultUserName);
        await page.GetByTestId("login-password").FillAsync("Not-The-Password-1");
        await page.GetByTestId("login-submit").ClickAsync();

        await Assertions.Expect(page.GetByTestId("login-error")).ToHaveTextAsync("Wrong user name or password, or too many tries. Check them and try again in a minute.");
    }

    private static async Task RegisterAsync(IPage page, string userName)
    {
        await page.GetByTestId("register-user").FillAsync(userName);
        await page.GetByTestId("register-password").FillAsync(ConclaveApp.Password);
        await page.GetByTestId("register-confirm").FillAsync(ConclaveApp.Password);
        await page.GetByTestId("register-submit").ClickAsync();
        await page.WaitForURLAsync(url => !url.Contains("/register", StringComparison.Ordinal));
    }
}
