using System.Net;
using DrWeb.Server.Services;
using DrWeb.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server;

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
        Assert.True((await admin.CreateAsync(email, "a-doctor-password", [AccountSetup.Doctor])).Succeeded);
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
        await admin.CreateAsync(email, "an-educator-password", [AccountSetup.Educator]);
        var user = (await admin.ListAsync()).Single(u => u.Email == email);
        Assert.True((await admin.SetRolesAsync(user.Id, [AccountSetup.Educator, AccountSetup.Doctor])).Succeeded);
        Assert.Equal([AccountSetup.Doctor, AccountSetup.Educator], (await admin.ListAsync()).Single(u => u.Email == email).Roles);
        Assert.True((await admin.DeleteAsync(user.Id)).Succeeded);
        Assert.DoesNotContain(await admin.ListAsync(), u => u.Email == email);

        var onlyAdmin = (await admin.ListAsync()).Single(u => u.Email == DrWebFactory.AdminEmail);
        var demote = await admin.SetRolesAsync(onlyAdmin.Id, [AccountSetup.Doctor]);
        Assert.Contains("last administrator", demote.Errors.Single().Description);
        Assert.Contains("last administrator", (await admin.DeleteAsync(onlyAdmin.Id)).Errors.Single().Description);
        Assert.False((await admin.CreateAsync("x@drweb.test", "a-long-password", [])).Succeeded);
    }

    [Fact]
    public async Task The_users_page_is_for_admins()
    {
        using var admin = await factory.SignedInClientAsync();
        string html = await admin.GetStringAsync("/admin/users");
        Assert.Contains("Users and roles", html);
        Assert.Contains(DrWebFactory.AdminEmail, html);
    }
}
