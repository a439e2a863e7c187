using Calc.Core.Hosting;
using Calc.Jobs;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("jobs");
builder.AddJobs();

var app = builder.Build();
app.UseServiceDefaults();
app.MapJobs();
app.Run();
