"""9001 sign-in (签到) and 9002 sign-out (签退): a window gets the `sign_no` it puts on every message."""

from __future__ import annotations

from pydantic import Field

from centre.interface.fields import DateTimeText, Model, Str


class SignInData(Model):
    opter_no: Str = Field(min_length=1, max_length=30, description="操作员编号")
    mac: Str = Field(default="", max_length=20, description="签到MAC地址")
    ip: Str = Field(default="", max_length=40, description="签到IP地址")


class In9001(Model):
    signIn: SignInData


class SignInOut(Model):
    sign_time: DateTimeText = Field(description="签到时间")
    sign_no: str = Field(description="签到编号")


class Out9001(Model):
    signinoutb: SignInOut


class SignOutData(Model):
    sign_no: Str = Field(min_length=1, max_length=30)
    opter_no: Str = Field(min_length=1, max_length=30)


class In9002(Model):
    signOut: SignOutData


class SignOutOut(Model):
    sign_time: DateTimeText = Field(description="签退时间")


class Out9002(Model):
    signoutoutb: SignOutOut
