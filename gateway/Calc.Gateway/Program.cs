using Calc.Gateway;
using Calc.Gateway.Dashboard;
using Calc.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("gateway");
builder.AddGateway();

var app = builder.Build();
app.UseServiceDefaults();
app.UseRateLimiter();
app.MapGateway();
app.MapDashboard();
app.Run();
