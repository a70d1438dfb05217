using System.Net;
using DrWeb.Server.Accounts;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Accounts;

public class UserAdministrationTests(DrWebFactory factory) : IClassFixture<DrWebFactory>
{
    private (IServiceScope Scope, UserAdministration Admin) Admin()
    {
        _ = factory.Server;
        var scope = factory.Services.CreateScope();
        return (scope, scope.ServiceProvider.GetRequiredService<UserAdministration>());
    }

    [Fact]
    public async Task An_admin_adds_a_doctor_who_can_then_sign_in_and_screen()
    {
        var (scope, admin) = Admin();
        using var _ = scope;
        string email = $"doc-{Guid.NewGuid():N}@drweb.test";
        Assert.True((await admin.CreateAsync(DrWebFactory.AdminEmail, email, "a-doctor-password", [AccountSetup.Doctor])).Succeeded);
        Assert.Contains(await admin.ListAsync(), u => u.Email == email && u.Roles.SequenceEqual([AccountSetup.Doctor]));

        using var client = factory.CreateClient();
        var signedIn = await DrWebFactory.SignInAsync(client, email, "a-doctor-password");
        Assert.Equal("/", signedIn.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/screening")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/admin/users")).StatusCode);
    }

    [Fact]
    public async Task Roles_change_and_users_are_deleted_but_never_the_last_admin()
    {
        var (scope, admin) = Admin();
        using var _ = scope;
        string email = $"edu-{Guid.NewGuid():N}@drweb.test";
        await admin.CreateAsync(DrWebFactory.AdminEmail, email, "an-educator-password", [AccountSetup.Educator]);
        var user = (await admin.ListAsync()).Single(u => u.Email == email);
        Assert.True((await admin.SetRolesAsync(DrWebFactory.AdminEmail, user.Id, [AccountSetup.Educator, AccountSetup.Doctor])).Succeeded);
        Assert.Equal([AccountSetup.Doctor, AccountSetup.Educator], (await admin.ListAsync()).Single(u => u.Email == email).Roles);
        Assert.True((await admin.DeleteAsync(DrWebFactory.AdminEmail, user.Id)).Succeeded);
        Assert.DoesNotContain(await admin.ListAsync(), u => u.Email == email);

        var onlyAdmin = (await admin.ListAsync()).Single(u => u.Email == DrWebFactory.AdminEmail);
        var demote = await admin.SetRolesAsync(DrWebFactory.AdminEmail, onlyAdmin.Id, [AccountSetup.Doctor]);
        Assert.Contains("last administrator", demote.Errors.Single().Description);
        Assert.Contains("last administrator", (await admin.DeleteAsync(DrWebFactory.AdminEmail, onlyAdmin.Id)).Errors.Single().Description);
        Assert.False((await admin.CreateAsync(DrWebFactory.AdminEmail, "x@drweb.test", "a-long-password", [])).Succeeded);
    }

    [Fact]
    public async Task The_users_page_is_for_admins()
    {
        using var admin = await factory.SignedInClientAsync();
        string html = await admin.GetStringAsync("/admin/users");
        Assert.Contains("Users and roles", html);
        Assert.Contains(DrWebFactory.AdminEmail, html);
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("demote")]
    [InlineData("lock")]
    public async Task Taking_access_away_ends_an_existing_cookie_session_at_its_next_request(string action)
    {
        var (scope, admin) = Admin();
        using var _ = scope;
        string email = $"doc-{action}-{Guid.NewGuid():N}@drweb.test";
        Assert.True((await admin.CreateAsync(DrWebFactory.AdminEmail, email, "a-doctor-password", [AccountSetup.Doctor])).Succeeded);
        string id = (await admin.ListAsync()).Single(u => u.Email == email).Id;
        using var doctor = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var signIn = await DrWebFactory.SignInAsync(doctor, email, "a-doctor-password");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await doctor.GetAsync("/screening/history")).StatusCode);

        var result = action switch
        {
            "delete" => await admin.DeleteAsync(DrWebFactory.AdminEmail, id),
            "demote" => await admin.SetRolesAsync(DrWebFactory.AdminEmail, id, [AccountSetup.Educator]),
            _ => await admin.SetLockedAsync(DrWebFactory.AdminEmail, id, true),
        };
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));

        var after = await doctor.GetAsync("/screening/history");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/login", after.Headers.Location!.PathAndQuery.StartsWith('/') ? after.Headers.Location.PathAndQuery : after.Headers.Location.AbsolutePath);
        // The session is over, not just this page: the API and the home page see no user either.
        Assert.Equal(HttpStatusCode.Redirect, (await doctor.GetAsync("/screening")).StatusCode);

        if (action == "lock")
        {
            // The account's API token stops too.
            Assert.True((await admin.SetLockedAsync(DrWebFactory.AdminEmail, id, false)).Succeeded);
            var (_, secret) = await factory.Services.GetRequiredService<ApiTokenService>().IssueAsync(DrWebFactory.AdminEmail, id, "test");
            using var api = factory.ApiClient(secret);
            Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);
            Assert.True((await admin.SetLockedAsync(DrWebFactory.AdminEmail, id, true)).Succeeded);
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync($"/api/screenings/{Guid.NewGuid()}")).StatusCode);

            using var again = factory.CreateClient();
            var refused = await DrWebFactory.SignInAsync(again, email, "a-doctor-password");
            Assert.NotEqual("/", refused.RequestMessage!.RequestUri!.AbsolutePath);
            Assert.True((await admin.SetLockedAsync(DrWebFactory.AdminEmail, id, false)).Succeeded);
            var unlocked = await DrWebFactory.SignInAsync(again, email, "a-doctor-password");
            Assert.Equal("/", unlocked.RequestMessage!.RequestUri!.AbsolutePath);
        }
    }

    [Fact]
    public void Sessions_are_checked_against_the_account_at_least_every_minute()
    {
        _ = factory.Server;
        var stamp = factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Identity.SecurityStampValidatorOptions>>();
        Assert.True(stamp.Value.ValidationInterval <= TimeSpan.FromMinutes(1), $"stamp checked every {stamp.Value.ValidationInterval}");
        Assert.IsType<DrWeb.Server.Accounts.RevalidatingIdentityStateProvider>(
            factory.Services.CreateScope().ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider>());
    }

    [Fact]
    public async Task Sign_out_needs_the_pages_antiforgery_token()
    {
        using var client = await factory.SignedInClientAsync(AccountSetup.Doctor);
        var forged = await client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("antiforgery token", await forged.Content.ReadAsStringAsync());
        Assert.Equal("/screening", (await client.GetAsync("/screening")).RequestMessage!.RequestUri!.AbsolutePath);

        string token = DrWebFactory.FormToken(await client.GetStringAsync("/screening"));
        Assert.False(string.IsNullOrEmpty(token));
        var signedOut = await client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal("/account/login", signedOut.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.StartsWith("/account/login", (await client.GetAsync("/screening")).RequestMessage!.RequestUri!.AbsolutePath);
    }
}
